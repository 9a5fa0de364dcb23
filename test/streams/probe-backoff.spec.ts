import { type Observable, throwError } from 'rxjs'
import type { RunHelpers } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { probeWithBackoff } from '../../streams/probe-backoff.js'
import { testScheduler } from '../helpers/marbles.js'

/**
 * Runs a flow that is told the resource is back on the `soon` marbles:
 * `answer` gives the outcome of the n-th attempt (from 1), `check` asserts on
 * the flow. Returns the virtual times at which the attempts started.
 */
function runTold(
  options: { firstDelay: number; maxDelay: number; soon: string },
  answer: (call: number, cold: RunHelpers['cold']) => Observable<unknown>,
  check: (flow: Observable<number>, expectObservable: RunHelpers['expectObservable']) => void,
): number[] {
  const started: number[] = []
  const scheduler = testScheduler()
  scheduler.run(({ cold, hot, expectObservable }) => {
    let calls = 0
    const flow = probeWithBackoff({
      firstDelay: options.firstDelay,
      maxDelay: options.maxDelay,
      soon: hot(options.soon),
      attempt: () => {
        started.push(scheduler.now())
        return answer(++calls, cold)
      },
    })
    check(flow, expectObservable)
  })
  return started
}

describe('probeWithBackoff', () => {
  it('waits the first delay, doubles it after each failure up to the bound, and ends at the first success', () => {
    const started: number[] = []
    const failures: number[] = []
    testScheduler().run(({ cold, expectObservable }) => {
      let calls = 0
      const flow = probeWithBackoff({
        firstDelay: 2,
        maxDelay: 4,
        attempt: () => {
          started.push(calls)
          // Each attempt takes one frame; the first two fail.
          return ++calls <= 2 ? cold('-#', undefined, new Error('still down')) : cold('-(x|)')
        },
        failed: (_, attempt) => failures.push(attempt),
      })
      // Attempt 0 at 2 (ends 3), attempt 1 at 3 + 4 = 7 (ends 8), attempt 2 at 8 + 4 (capped) = 12, ends 13.
      expectObservable(flow).toBe('-------------(c|)', { c: 2 })
    })
    expect(started).toEqual([0, 1, 2])
    expect(failures).toEqual([0, 1])
  })

  it('follows 1 s doubling to 30 s: attempts at 1, 3, 7, 15, 31, 61, 91 s', () => {
    const at: number[] = []
    const scheduler = testScheduler()
    scheduler.run(({ cold, expectObservable }) => {
      let calls = 0
      const flow = probeWithBackoff({
        firstDelay: 1000,
        maxDelay: 30_000,
        attempt: () => {
          at.push(scheduler.now())
          return ++calls < 7 ? throwError(() => new Error('down')) : cold('(x|)')
        },
      })
      expectObservable(flow).toBe('91000ms (g|)', { g: 6 })
    })
    expect(at).toEqual([1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000])
  })

  it('counts an attempt that completes without a value as a success', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(probeWithBackoff({ firstDelay: 3, maxDelay: 3, attempt: () => cold('--|') })).toBe('-----(z|)', { z: 0 })
    })
  })

  it('stops trying once unsubscribed, also while an attempt runs', () => {
    let calls = 0
    testScheduler().run(({ cold, expectObservable }) => {
      const flow = probeWithBackoff({ firstDelay: 1, maxDelay: 1, attempt: () => (calls++, cold('---#')) })
      // Attempts start at 1 and 5; the second is cut off at 6 and no third starts.
      expectObservable(flow, '^-----!').toBe('------')
    })
    expect(calls).toBe(2)
  })

  it('ends a wait at once when told the resource is back, and backs off from the first delay if that attempt fails', () => {
    const started = runTold(
      { firstDelay: 2, maxDelay: 8, soon: '----------s' },
      (call, cold) => (call <= 3 ? cold('-#', undefined, new Error('still down')) : cold('-(x|)')),
      (flow, expectObservable) => {
        // Attempts at 2 and 7 fail; the next is due at 16, told at 10: attempt at 10, fails at 11;
        // the delays start again: attempt at 11 + 2 = 13, ends 14.
        expectObservable(flow).toBe('--------------(d|)', { d: 3 })
      },
    )
    expect(started).toEqual([2, 7, 10, 13])
  })

  it('takes no notice of being told while an attempt runs: only a wait is cut short', () => {
    const started = runTold(
      { firstDelay: 2, maxDelay: 2, soon: '---s' },
      // The first attempt runs from 2 to 5 and fails; the one after it waits its 2 frames.
      (call, cold) => (call === 1 ? cold('---#', undefined, new Error('down')) : cold('(x|)')),
      (flow, expectObservable) => expectObservable(flow).toBe('-------(b|)', { b: 1 }),
    )
    expect(started).toEqual([2, 7])
  })
})
