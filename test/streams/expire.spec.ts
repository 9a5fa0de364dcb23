import { describe, expect, it } from 'vitest'
import { expire } from '../../streams/expire.js'
import { testScheduler } from '../helpers/marbles.js'

describe('expire', () => {
  it('sweeps on every tick of its period, each sweep in its slices', () => {
    testScheduler().run(({ expectObservable }) => {
      let slice = 0
      const sweepSlice = (): boolean => ++slice % 2 === 1 // two slices a sweep
      const sweeps = expire({ period: 4, pending: () => true, sweepSlice })
      expectObservable(sweeps, '^-----------!').toBe('----(ab)(ab)', { a: 0, b: 1 })
    })
  })

  it('completes at the first tick with nothing left to expire', () => {
    testScheduler().run(({ expectObservable }) => {
      let ticks = 0
      const sweeps = expire({ period: 4, pending: () => ++ticks < 3, sweepSlice: () => false })
      expectObservable(sweeps).toBe('----a---a---|', { a: 0 })
    })
  })

  it('does not sweep before the first period has passed', () => {
    testScheduler().run(({ expectObservable }) => {
      const flow = expire({ period: 10, pending: () => true, sweepSlice: () => false })
      expectObservable(flow, '^--------!').toBe('')
    })
  })

  it('stops sweeping when unsubscribed', () => {
    testScheduler().run(({ expectObservable, flush }) => {
      let slices = 0
      const flow = expire({ period: 2, pending: () => true, sweepSlice: () => (slices++, false) })
      expectObservable(flow, '^----!').toBe('--a-a', { a: 0 })
      flush()
      expect(slices).toBe(2)
    })
  })

  it('passes on an error of a slice', () => {
    testScheduler().run(({ expectObservable }) => {
      const flow = expire({
        period: 3,
        pending: () => true,
        sweepSlice: () => {
          throw new Error('sweep failed')
        },
      })
      expectObservable(flow).toBe('---#', undefined, new Error('sweep failed'))
    })
  })
})
