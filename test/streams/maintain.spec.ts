import { of, throwError } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { maintain } from '../../streams/maintain.js'
import { testScheduler } from '../helpers/marbles.js'

describe('maintain', () => {
  it('runs slices on each tick while they answer true', () => {
    testScheduler().run(({ expectObservable }) => {
      const answers = [true, true, false, false]
      let i = 0
      const flow = maintain({ period: 6, slice: () => of(answers[i++]), onError: () => {} })
      expectObservable(flow, '^------------!').toBe('------(ttf)-f', { t: true, f: false })
    })
  })

  it('skips the ticks that come while a run is still under way', () => {
    let runs = 0
    testScheduler().run(({ cold, expectObservable }) => {
      const flow = maintain({ period: 3, slice: () => (runs++, cold('----(f|)', { f: false })), onError: () => {} })
      // Runs start on the ticks at 3 and 9; the tick at 6 finds the first run busy and is dropped.
      expectObservable(flow, '^----------!').toBe('-------f---', { f: false })
    })
    expect(runs).toBe(2)
  })

  it('reports a failed slice and tries again on the next tick', () => {
    const errors: unknown[] = []
    testScheduler().run(({ expectObservable }) => {
      let calls = 0
      const flow = maintain({
        period: 2,
        slice: () => (++calls === 1 ? throwError(() => new Error('disk full')) : of(false)),
        onError: (error) => errors.push(error),
      })
      expectObservable(flow, '^-----!').toBe('----f-', { f: false })
    })
    expect(errors).toEqual([new Error('disk full')])
  })

  it('stops on unsubscribe', () => {
    testScheduler().run(({ expectObservable, flush }) => {
      let calls = 0
      const flow = maintain({ period: 1, slice: () => (calls++, of(false)), onError: () => {} })
      expectObservable(flow, '^--!').toBe('-ff', { f: false })
      flush()
      expect(calls).toBe(2)
    })
  })
})
