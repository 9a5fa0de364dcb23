import type { SchedulerLike, Subscription } from 'rxjs'
import { type RedisClient, remoteError } from '../remote/redis-client.js'

/**
 * Sends a command that fails with `E_REMOTE` unless its reply comes within
 * `ms` on the scheduler's clock, also once it is on the wire: node-redis's
 * own `timeout` stops at the write for a blocking command (`XREAD BLOCK`),
 * and a partition holds the reply without an error.
 */
export async function callWithin<T>(client: RedisClient, args: readonly string[], ms: number, scheduler: SchedulerLike): Promise<T> {
  const controller = new AbortController()
  const deadline = scheduler.schedule(() => controller.abort(), ms)
  try {
    return await client.sendCommand<T>(args, { abortSignal: controller.signal, rejectInFlight: true })
  } catch (error) {
    throw remoteError(controller.signal.aborted ? `${args[0]} took over ${ms} ms` : `${args[0]} failed`, error)
  } finally {
    deadline.unsubscribe()
  }
}

/** `promise`, or an `E_REMOTE` rejection if it does not settle within `ms` on the scheduler's clock. */
export function settleWithin<T>(promise: Promise<T>, ms: number, scheduler: SchedulerLike, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = scheduler.schedule(() => reject(remoteError(`${what} took over ${ms} ms`)), ms)
    promise.then(
      (value) => {
        deadline.unsubscribe()
        resolve(value)
      },
      (error: unknown) => {
        deadline.unsubscribe()
        reject(remoteError(`${what} failed`, error))
      },
    )
  })
}

/**
 * The deadline of a loop of reads on one connection, each of which must be
 * answered within `ms`: `started` before each read, `answered` after it.
 * One timer serves every read (a read that comes back in time costs two
 * assignments, not a timer of its own); when it fires early for the read
 * under way it waits again for the rest. Past a deadline, `expired` is
 * called once and the caller ends the connection, which fails the read.
 */
export class ReadDeadline {
  readonly #ms: number
  readonly #scheduler: SchedulerLike
  readonly #expired: (error: unknown) => void
  /** When the read under way must have been answered (scheduler time); Infinity when none is. */
  #due = Number.POSITIVE_INFINITY
  #timer: Subscription | undefined
  #stopped = false

  constructor(ms: number, scheduler: SchedulerLike, expired: (error: unknown) => void) {
    this.#ms = ms
    this.#scheduler = scheduler
    this.#expired = expired
  }

  started(): void {
    this.#due = this.#scheduler.now() + this.#ms
    if (this.#timer === undefined && !this.#stopped) this.#timer = this.#scheduler.schedule(() => this.#check(), this.#ms)
  }

  answered(): void {
    this.#due = Number.POSITIVE_INFINITY
  }

  stop(): void {
    this.#stopped = true
    this.#timer?.unsubscribe()
    this.#timer = undefined
  }

  #check(): void {
    this.#timer = undefined
    if (this.#stopped || this.#due === Number.POSITIVE_INFINITY) return
    const left = this.#due - this.#scheduler.now()
    if (left > 0) {
      this.#timer = this.#scheduler.schedule(() => this.#check(), left)
      return
    }
    this.stop()
    this.#expired(remoteError(`XREAD took over ${this.#ms} ms`))
  }
}
