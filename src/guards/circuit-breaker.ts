import type { SchedulerLike } from 'rxjs'

/** Where a breaker stands: 'closed' lets calls through, 'open' fails them fast, 'half-open' lets one probe through. */
export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  failures?: number
  /** Ms an open breaker fails calls fast before it lets one probe through. Default 10,000. */
  cooldown?: number
}

export const DEFAULT_BREAKER_FAILURES = 5
export const DEFAULT_BREAKER_COOLDOWN = 10_000

/**
 * The error an open breaker fails a call with, before the call is made. The
 * cache does not throw it as such: it is the `cause` of the `CacheError` the
 * caller gets (`E_LOADER` for a loader or factory).
 */
export class BreakerOpenError extends Error {
  override readonly name = 'BreakerOpenError'
  /** When (on the cache's scheduler clock) the breaker lets its next probe through. */
  readonly retryAt: number

  constructor(failures: number, retryAt: number) {
    super(`the circuit breaker is open after ${failures} consecutive failures: calls fail fast until a probe may go at ${retryAt}`)
    this.retryAt = retryAt
  }
}

/**
 * A circuit breaker on the scheduler's clock. Closed, it lets every call
 * through and counts consecutive failures; at `failures` of them it opens:
 * `allow()` says no for `cooldown` ms. Then it is half-open: `allow()` says
 * yes once, to a probe, and no to the rest until an outcome is reported; a
 * success closes it, a failure opens it for another cooldown.
 *
 * ```
 * failures 2, cooldown 5:   call  ×--×------✓
 * state:                    closed ─ open ─ half-open ─ closed
 *                                  t=3  ....  t=8 (probe) ✓ closes
 * ```
 *
 * It holds no timer: the change from open to half-open is read from the
 * clock when asked, so there is nothing to release. Outcomes reported while
 * it is open (calls let through before it opened) change nothing; in the
 * half-open state the first outcome reported decides.
 */
export class CircuitBreaker {
  readonly #failures: number
  readonly #cooldown: number
  readonly #scheduler: SchedulerLike
  #consecutive = 0
  /** When the breaker opened; NaN while closed. */
  #openedAt = Number.NaN
  /** A probe was let through and has not reported. */
  #probing = false

  constructor(options: BreakerOptions, scheduler: SchedulerLike) {
    this.#failures = options.failures ?? DEFAULT_BREAKER_FAILURES
    this.#cooldown = options.cooldown ?? DEFAULT_BREAKER_COOLDOWN
    this.#scheduler = scheduler
  }

  get state(): BreakerState {
    if (Number.isNaN(this.#openedAt)) return 'closed'
    return this.#scheduler.now() < this.retryAt ? 'open' : 'half-open'
  }

  /** When an open breaker lets a probe through, on the scheduler's clock; NaN while closed. */
  get retryAt(): number {
    return this.#openedAt + this.#cooldown
  }

  /** Whether a call may go now. A yes in the half-open state is the probe: its outcome must be reported. */
  allow(): boolean {
    const state = this.state
    if (state === 'closed') return true
    if (state === 'open' || this.#probing) return false
    this.#probing = true
    return true
  }

  /** A call let through succeeded: the failure count starts again, a half-open breaker closes. */
  succeeded(): void {
    const state = this.state
    if (state === 'open') return
    this.#consecutive = 0
    this.#openedAt = Number.NaN
    this.#probing = false
  }

  /** A call let through failed: one more consecutive failure; a half-open breaker opens again. */
  failed(): void {
    const state = this.state
    if (state === 'open') return
    if (state === 'half-open' || ++this.#consecutive >= this.#failures) this.#open()
  }

  /** The error a call refused now fails with. */
  openError(): BreakerOpenError {
    return new BreakerOpenError(this.#failures, this.retryAt)
  }

  /** Runs `call` if the breaker allows it and reports its outcome; otherwise rejects with `BreakerOpenError`, not calling it. */
  async run<T>(call: () => T | Promise<T>): Promise<T> {
    if (!this.allow()) throw this.openError()
    let result: T
    try {
      result = await call()
    } catch (error) {
      this.failed()
      throw error
    }
    this.succeeded()
    return result
  }

  #open(): void {
    this.#openedAt = this.#scheduler.now()
    this.#consecutive = 0
    this.#probing = false
  }
}
