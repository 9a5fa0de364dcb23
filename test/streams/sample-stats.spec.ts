import { describe, it } from 'vitest'
import { sampleStats } from '../../streams/sample-stats.js'
import { testScheduler } from '../helpers/marbles.js'

describe('sampleStats', () => {
  it('samples on each tick of its period, reading at that moment', () => {
    testScheduler().run(({ expectObservable }) => {
      let reads = 0
      const samples = sampleStats(() => ++reads, 3)
      expectObservable(samples, '^---------!').toBe('---a--b--c', { a: 1, b: 2, c: 3 })
    })
  })

  it('stops reading when unsubscribed', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(
        sampleStats(() => 'x', 2),
        '^--!',
      ).toBe('--x')
    })
  })
})
