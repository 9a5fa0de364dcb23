import { map } from 'rxjs'
import type { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { BreakerOpenError, CircuitBreaker } from '../../src/guards/circuit-breaker.js'
import { testScheduler } from '../helpers/marbles.js'

/**
 * Drives a breaker with a marble of calls, each reporting its outcome at once:
 * 'x' fails, 'o' succeeds. Each call is answered with what happened to it and
 * the state after: 'F' let through and failed, 'S' let through and succeeded,
 * 'r' refused (failed fast, never made); then ':' and the state.
 */
function drive(scheduler: TestScheduler, breaker: CircuitBreaker, calls: string) {
  return scheduler.createColdObservable(calls).pipe(
    map((call) => {
      if (!breaker.allow()) return `r:${breaker.state}`
      if (call === 'x') breaker.failed()
      else breaker.succeeded()
      return `${call === 'x' ? 'F' : 'S'}:${breaker.state}`
    }),
  )
}

describe('CircuitBreaker', () => {
  it('opens at the failures-th consecutive failure, fails fast for the cooldown, then one probe closes it', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const breaker = new CircuitBreaker({ failures: 2, cooldown: 5 }, scheduler)
      // opens at frame 2; frames 4 and 6 fall in its cooldown (to 7); frame 8 is the probe, which closes it
      expectObservable(drive(scheduler, breaker, 'x-x-o-o-o-o')).toBe('a-b-c-c-d-e', {
        a: 'F:closed',
        b: 'F:open',
        c: 'r:open',
        d: 'S:closed',
        e: 'S:closed',
      })
    })
  })

  it('a failing probe opens it for another cooldown', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const breaker = new CircuitBreaker({ failures: 1, cooldown: 4 }, scheduler)
      // open at 0; probe at 4 fails (open again until 8); 6 refused; probe at 8 succeeds
      expectObservable(drive(scheduler, breaker, 'x---x-o-o-o')).toBe('a---a-b-c-c', { a: 'F:open', b: 'r:open', c: 'S:closed' })
    })
  })

  it('reads half-open from the clock at the end of the cooldown, with no timer', () => {
    const scheduler = testScheduler()
    scheduler.run(({ flush }) => {
      const breaker = new CircuitBreaker({ failures: 1, cooldown: 10 }, scheduler)
      const states: string[] = []
      scheduler.schedule(() => breaker.failed(), 1)
      for (const at of [0, 1, 10, 11, 12]) scheduler.schedule(() => states.push(`${at}:${breaker.state}`), at)
      flush()
      expect(states).toEqual(['0:closed', '1:open', '10:open', '11:half-open', '12:half-open'])
      expect(breaker.retryAt).toBe(11)
    })
  })

  it('a success between failures starts the count again', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable }) => {
      const breaker = new CircuitBreaker({ failures: 3, cooldown: 5 }, scheduler)
      expectObservable(drive(scheduler, breaker, 'xxoxxox')).toBe('aabaaba', { a: 'F:closed', b: 'S:closed' })
    })
  })

  it('lets one probe through while half-open; the others fail fast until it reports', () => {
    const scheduler = testScheduler()
    const breaker = new CircuitBreaker({ failures: 1, cooldown: 3 }, scheduler)
    scheduler.run(({ flush }) => {
      const seen: string[] = []
      scheduler.schedule(() => breaker.failed(), 0)
      scheduler.schedule(() => seen.push(`probe ${breaker.allow()}`, `second ${breaker.allow()}`, breaker.state), 3)
      scheduler.schedule(() => seen.push(`still ${breaker.allow()}`), 5)
      scheduler.schedule(() => (breaker.succeeded(), seen.push(breaker.state, `after ${breaker.allow()}`)), 6)
      flush()
      expect(seen).toEqual(['probe true', 'second false', 'half-open', 'still false', 'closed', 'after true'])
    })
  })

  it('ignores outcomes reported while open: calls let through before it opened change nothing', () => {
    const scheduler = testScheduler()
    const breaker = new CircuitBreaker({ failures: 1, cooldown: 10 }, scheduler)
    scheduler.run(({ flush }) => {
      scheduler.schedule(() => breaker.failed(), 0)
      scheduler.schedule(() => breaker.succeeded(), 4) // a late success of an earlier call
      scheduler.schedule(() => breaker.failed(), 6) // a late failure: no new cooldown
      flush()
    })
    expect(breaker.retryAt).toBe(10)
  })

  it('run: calls through while closed, rejects with BreakerOpenError without calling while open', async () => {
    let now = 0
    const clock = { now: () => now, schedule: () => ({ unsubscribe() {}, closed: false }) } as never
    const breaker = new CircuitBreaker({ failures: 2, cooldown: 100 }, clock)
    let calls = 0
    const failing = () => {
      calls++
      return Promise.reject(new Error('down'))
    }
    await expect(breaker.run(failing)).rejects.toThrow('down')
    await expect(breaker.run(failing)).rejects.toThrow('down')
    expect(breaker.state).toBe('open')
    const refused = await breaker.run(failing).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(BreakerOpenError)
    expect((refused as BreakerOpenError).retryAt).toBe(100)
    expect((refused as Error).message).toMatch(/circuit breaker is open/)
    expect(calls).toBe(2)
    now = 100
    await expect(breaker.run(() => 'up')).resolves.toBe('up')
    expect(breaker.state).toBe('closed')
  })
})
