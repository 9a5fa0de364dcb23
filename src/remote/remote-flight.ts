import { randomUUID } from 'node:crypto'
import type { SchedulerLike, Subscription } from 'rxjs'
import type { RedisClient } from './redis-client.js'
import { type CommandCall, command } from './redis-command.js'
import { connectOnce } from './redis-connection.js'
import { ACQUIRE, RELEASE } from './scripts.js'

export interface RemoteFlightOptions {
  prefix: string
  /** Ms a lock lives unless released: a holder that died frees its key after this. */
  lockTtl: number
  commandTimeout: number
}

/** A key's load lock, held by this instance. */
export interface RemoteLock {
  readonly token: string
  /** Grows with every lock taken under the prefix: a later holder has a larger one. */
  readonly fence: number
  /** Frees the key and wakes its waiters, unless the lock expired and is another's now. */
  release(): Promise<void>
}

interface Waiter {
  readonly key: string
  readonly deadline: number
  timer?: Subscription
  resolve(released: boolean): void
}

/**
 * Single-flight across instances: one instance holds a key's lock while it
 * loads, the others wait for its release. Waiters are woken by a Pub/Sub
 * message on `<prefix>flight` (the key) on a connection of their own, not by
 * polling; a holder that died is noticed when its lock expires.
 */
export class RemoteFlight {
  readonly #client: RedisClient
  readonly #options: RemoteFlightOptions
  readonly #scheduler: SchedulerLike
  readonly #call: CommandCall
  readonly #waiters = new Map<string, Set<Waiter>>()
  #subscriber: RedisClient | undefined
  #subscribed: Promise<void> | undefined
  #closed = false

  constructor(client: RedisClient, options: RemoteFlightOptions, scheduler: SchedulerLike) {
    this.#client = client
    this.#options = options
    this.#scheduler = scheduler
    this.#call = { timeout: options.commandTimeout }
  }

  /** The key's lock, or undefined when another holds it. */
  async acquire(key: string): Promise<RemoteLock | undefined> {
    const { prefix, lockTtl } = this.#options
    const token = randomUUID()
    const fence = await ACQUIRE.run<number | null>(this.#client, [prefix, key, token, String(Math.max(1, Math.ceil(lockTtl)))], this.#call)
    if (fence === null) return undefined
    return {
      token,
      fence,
      release: async () => {
        await RELEASE.run(this.#client, [prefix, key, token], this.#call)
      },
    }
  }

  /**
   * Resolves true when the key's holder released it, false after `timeout`
   * ms or when its lock expired unreleased (its holder died): the caller
   * then loads itself. True at once when no one holds it.
   */
  async waitFor(key: string, timeout: number): Promise<boolean> {
    if (this.#closed) return false
    try {
      await this.#subscribe()
    } catch {
      return false // no way to be told: the caller loads itself, as after a timeout
    }
    if (this.#closed) return false
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        key,
        deadline: this.#scheduler.now() + timeout,
        resolve: (released) => {
          this.#drop(waiter)
          resolve(released)
        },
      }
      let set = this.#waiters.get(key)
      if (set === undefined) this.#waiters.set(key, (set = new Set()))
      set.add(waiter)
      // Registered and subscribed before looking: a release from now on wakes it.
      this.#watchLock(waiter, true)
    })
  }

  /** Wakes every waiter (false) and closes the subscriber connection. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.resolve(false)
    const subscriber = this.#subscriber
    this.#subscriber = undefined
    if (subscriber === undefined) return
    await this.#subscribed?.catch(() => undefined)
    try {
      if (subscriber.isOpen) await subscriber.close()
    } catch {
      subscriber.destroy()
    }
  }

  /**
   * Looks at the key's lock: gone, the waiter resolves (true on the first
   * look: released before we looked; false later: it expired unreleased);
   * held, it looks again when that lock would expire, or gives up at its deadline.
   */
  #watchLock(waiter: Waiter, first: boolean): void {
    const lock = `${this.#options.prefix}lock:${waiter.key}`
    command<number>(this.#client, ['PTTL', lock], this.#call).then(
      (left) => {
        if (!this.#isWaiting(waiter)) return
        if (left === -2) return waiter.resolve(first)
        const untilDeadline = waiter.deadline - this.#scheduler.now()
        if (untilDeadline <= 0) return waiter.resolve(false)
        const expired = left >= 0 && left < untilDeadline
        waiter.timer = this.#scheduler.schedule(() => (expired ? this.#watchLock(waiter, false) : waiter.resolve(false)), expired ? left + 1 : untilDeadline)
      },
      // Redis is failing: the caller loads itself, as after a timeout.
      () => {
        if (this.#isWaiting(waiter)) waiter.resolve(false)
      },
    )
  }

  #isWaiting(waiter: Waiter): boolean {
    return this.#waiters.get(waiter.key)?.has(waiter) === true
  }

  #drop(waiter: Waiter): void {
    waiter.timer?.unsubscribe()
    const set = this.#waiters.get(waiter.key)
    if (set === undefined) return
    set.delete(waiter)
    if (set.size === 0) this.#waiters.delete(waiter.key)
  }

  #subscribe(): Promise<void> {
    if (this.#subscribed === undefined) {
      const subscriber = this.#client.duplicate()
      this.#subscriber = subscriber
      subscriber.on('error', ignore)
      this.#subscribed = (async () => {
        await connectOnce(subscriber, 'Redis for single-flight')
        await subscriber.subscribe(`${this.#options.prefix}flight`, (key) => this.#wake(key))
      })()
      // A failed subscribe is tried again by the next waiter.
      this.#subscribed.catch(() => {
        if (this.#subscriber === subscriber) {
          this.#subscriber = undefined
          this.#subscribed = undefined
          subscriber.destroy()
        }
      })
    }
    return this.#subscribed
  }

  #wake(key: string): void {
    const set = this.#waiters.get(key)
    if (set !== undefined) for (const waiter of [...set]) waiter.resolve(true)
  }
}

const ignore = (): void => undefined
