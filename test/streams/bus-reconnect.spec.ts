import { type Observable, throwError } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { reconnectWithBackoff } from '../../streams/bus-reconnect.js'
import { testScheduler } from '../helpers/marbles.js'

describe('reconnectWithBackoff', () => {
  it('waits the first delay after a failure, doubles it while sessions fail in a row, up to the bound', () => {
    const failures: number[] = []
    const starts: number[] = []
    const scheduler = testScheduler()
    scheduler.run(({ cold, expectObservable }) => {
      let calls = 0
      const sessions: Observable<string>[] = [cold('#'), cold('-#'), cold('#'), cold('#'), cold('--a')]
      const flow = reconnectWithBackoff(
        () => {
          starts.push(scheduler.now())
          return sessions[calls++] as Observable<string>
        },
        { firstDelay: 2, maxDelay: 5, failed: (_, n) => failures.push(n) },
        scheduler,
      )
      // Starts at 0, 2, 3 + 4 = 7, 7 + 5 (capped) = 12, 12 + 5 = 17; the last emits 2 frames later.
      expectObservable(flow).toBe('-------------------a')
    })
    expect(starts).toEqual([0, 2, 7, 12, 17])
    expect(failures).toEqual([1, 2, 3, 4])
  })

  it('waits the first delay again after a session that got through', () => {
    const starts: number[] = []
    const scheduler = testScheduler()
    scheduler.run(({ cold, expectObservable }) => {
      let calls = 0
      const sessions = [cold('#'), cold('(a#)'), cold('#'), cold('b')]
      const flow = reconnectWithBackoff(
        () => {
          starts.push(scheduler.now())
          return sessions[calls++] as Observable<string>
        },
        { firstDelay: 2, maxDelay: 8 },
        scheduler,
      )
      // 0 fails; 2 emits a and fails; 4 (2 again, not 4) fails; 4 + 4 = 8 emits b.
      expectObservable(flow).toBe('--a-----b')
    })
    expect(starts).toEqual([0, 2, 4, 8])
  })

  it('passes the values of a session through and completes with it', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(reconnectWithBackoff(() => cold('a-b|'), { firstDelay: 1, maxDelay: 1 })).toBe('a-b|')
    })
  })

  it('ends with the error of a failed hook that throws', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const flow = reconnectWithBackoff(() => cold('--#', undefined, new Error('down')), {
        firstDelay: 1,
        maxDelay: 1,
        failed: (error) => {
          throw error
        },
      })
      expectObservable(flow).toBe('--#', undefined, new Error('down'))
    })
  })

  it('stops on unsubscribe, during a session and during a wait', () => {
    let calls = 0
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const session = cold('---#')
      const flow = reconnectWithBackoff(() => (calls++, session), { firstDelay: 2, maxDelay: 2 })
      // Sessions at 0-3 and 5-8; cut at 6, inside the second; then a run cut during a wait.
      expectObservable(flow, '^-----!').toBe('------')
      expectSubscriptions(session.subscriptions).toBe(['^--!', '-----^!'])
    })
    expect(calls).toBe(2)
    calls = 0
    testScheduler().run(({ expectObservable }) => {
      const flow = reconnectWithBackoff(() => (calls++, throwError(() => new Error('down'))), { firstDelay: 5, maxDelay: 5 })
      expectObservable(flow, '^--!').toBe('---')
    })
    expect(calls).toBe(1)
  })
})
