import { asyncScheduler } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { inSlices } from '../../streams/slices.js'
import { testScheduler } from '../helpers/marbles.js'

const steps = (...answers: boolean[]): (() => boolean) => {
  let i = 0
  return () => answers[i++]
}

describe('inSlices', () => {
  it('runs slices until the step says it is done, all in the frame it starts', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(inSlices(steps(true, true, false))).toBe('(abc|)', { a: 0, b: 1, c: 2 })
    })
  })

  it('runs a single slice for a step that is done at once', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(inSlices(steps(false))).toBe('(a|)', { a: 0 })
    })
  })

  it('errors with what the step throws, and stops', () => {
    let calls = 0
    const step = (): boolean => {
      if (++calls === 2) throw new Error('broken')
      return true
    }
    testScheduler().run(({ expectObservable }) => {
      expectObservable(inSlices(step)).toBe('(a#)', { a: 0 }, new Error('broken'))
    })
    expect(calls).toBe(2)
  })

  it('runs no further slice after unsubscribe', () => {
    let calls = 0
    const subscription = inSlices(() => {
      calls++
      subscription?.unsubscribe()
      return true
    }, asyncScheduler).subscribe()
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(calls).toBe(1)
        resolve()
      }, 20),
    )
  })

  it('hands the event loop back between slices on the async scheduler', async () => {
    const order: string[] = []
    await new Promise<void>((resolve) => {
      let slice = 0
      inSlices(() => {
        order.push(`slice ${slice}`)
        if (slice++ === 0) setImmediate(() => order.push('io'))
        return slice < 3
      }, asyncScheduler).subscribe({ complete: resolve })
    })
    expect(order).toEqual(['slice 0', 'io', 'slice 1', 'slice 2'])
  })
})
