import { describe, expect, it } from 'vitest'
import { compact } from '../../streams/compact.js'
import { testScheduler } from '../helpers/marbles.js'

describe('compact', () => {
  it('waits its delay, then runs slices until the pass is done, and completes', () => {
    testScheduler().run(({ expectObservable }) => {
      let slice = 0
      const pass = compact({ delay: 3, compactSlice: () => ++slice < 3 })
      expectObservable(pass).toBe('---(abc|)', { a: 0, b: 1, c: 2 })
    })
  })

  it('runs no slice when unsubscribed before its delay, and leaves nothing scheduled', () => {
    testScheduler().run(({ expectObservable, flush }) => {
      let slices = 0
      const pass = compact({ delay: 5, compactSlice: () => (slices++, true) })
      expectObservable(pass, '^--!').toBe('')
      flush()
      expect(slices).toBe(0)
    })
  })

  it('passes on an error of a slice', () => {
    testScheduler().run(({ expectObservable }) => {
      const pass = compact({
        delay: 1,
        compactSlice: () => {
          throw new Error('slice failed')
        },
      })
      expectObservable(pass).toBe('-#', undefined, new Error('slice failed'))
    })
  })
})
