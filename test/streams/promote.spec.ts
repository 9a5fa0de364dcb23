import { describe, it } from 'vitest'
import { promote } from '../../streams/promote.js'
import { testScheduler } from '../helpers/marbles.js'

const hit = (key: string) => ({ key })
const values = { a: hit('a'), b: hit('b'), c: hit('c') }

describe('promote', () => {
  it('promotes on the first hit when after is 1', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const hits = hot('-a-b-a|', values)
      expectObservable(hits.pipe(promote({ after: 1 }))).toBe('-a-b-a|', values)
    })
  })

  it('promotes on the after-th hit within the window, at the frame of that hit', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const hits = hot('a-a---b------b-----b-b|', values)
      expectObservable(hits.pipe(promote({ after: 2, within: 5 }))).toBe('--a------------------b|', values)
    })
  })

  it('counts again from zero after a promotion', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const hits = hot('aaaaa|', values)
      expectObservable(hits.pipe(promote({ after: 2 }))).toBe('-a-a-|', values)
    })
  })

  it('tracks at most maxTracked keys, forgetting the oldest count', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const hits = hot('a-b-a-b-c-c|', values)
      expectObservable(hits.pipe(promote({ after: 2, maxTracked: 1 }))).toBe('----------c|', values)
    })
  })

  it('passes on errors and completion', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      expectObservable(hot('a-#', values).pipe(promote({ after: 2 }))).toBe('--#')
      expectObservable(hot<{ key: string }>('--|').pipe(promote({ after: 2 }))).toBe('--|')
    })
  })

  it('unsubscribes from its source when unsubscribed', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const hits = hot('a-a-a-a|', values)
      expectObservable(hits.pipe(promote({ after: 2 })), '^--!').toBe('--a', values)
      expectSubscriptions(hits.subscriptions).toBe('^--!')
    })
  })
})
