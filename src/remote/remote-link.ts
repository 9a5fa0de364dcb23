import type { SchedulerLike } from 'rxjs'
import { asCacheError, type CacheError } from '../errors.js'
import { KnownGeneration } from './known-generation.js'
import type { ResolvedRemote } from './remote-settings.js'
import { RemoteFlight } from './remote-flight.js'
import { closeRedis, openRedis } from './redis-connection.js'
import type { RedisClient } from './redis-client.js'
import { RemoteStore } from './remote-store.js'

/** The remote tier's connection and what runs on it: the store, and the locks of loads across instances. */
export interface RemoteParts {
  readonly client: RedisClient
  readonly store: RemoteStore
  readonly flight: RemoteFlight
}

/**
 * The remote tier's Redis, opened once for the reads (the tier), the writes
 * (every write goes to Redis before it is acknowledged) and the loads.
 * Whether it works now is the tier's health (`usable`), judged by the
 * stack's `GuardedTier`: a failed call degrades it; a probe brings it back.
 */
export class RemoteLink {
  readonly options: ResolvedRemote
  /** Resolves with the parts once Redis answers; rejects with E_REMOTE if the first connection fails. */
  readonly opened: Promise<RemoteParts>
  /** The generation reads name records by: kept known by the bus, when there is one (see `Coherence`). */
  readonly generation = new KnownGeneration()
  readonly #scheduler: SchedulerLike
  readonly #retention: number
  #attempt: Promise<RemoteParts>
  #parts: RemoteParts | undefined
  #owned = false
  #closed = false
  /** Whether the tier is degraded now: told by the stack's guard. */
  degraded = false
  /** Where a failed call is told: the tier's guard, once the stack has made it. */
  failed: (error: CacheError) => void = () => undefined

  constructor(options: ResolvedRemote, retention: number, scheduler: SchedulerLike) {
    this.options = options
    this.#scheduler = scheduler
    this.#retention = retention
    this.opened = this.#attempt = this.#open()
  }

  /** Resolves once Redis answers a ping: for the guard's probe, which also retries a first connection that failed. */
  async probe(): Promise<void> {
    if (this.#parts === undefined) this.#attempt = this.#attempt.catch(() => this.#open())
    const parts = await this.#attempt
    await parts.store.ping()
    this.degraded = false
  }

  #open(): Promise<RemoteParts> {
    const { prefix, commandTimeout, tombstoneTtl, lockTimeout } = this.options
    const opening = openRedis(this.options.redis)
      .then(async ({ client, owned }) => {
        this.#owned = owned
        try {
          const store = new RemoteStore(client, { prefix, commandTimeout, retention: this.#retention, tombstoneTtl }, this.generation)
          await store.open()
          const flight = new RemoteFlight(client, { prefix, lockTtl: Math.max(lockTimeout * 2, 10_000), commandTimeout }, this.#scheduler)
          if (this.#closed) throw new Error('closed while opening')
          this.#parts = { client, store, flight }
          return this.#parts
        } catch (error) {
          if (owned) await closeRedis({ client, owned }).catch(() => undefined)
          throw error
        }
      })
      .catch((error: unknown) => {
        throw asCacheError(error, 'E_REMOTE', `cannot connect to the remote tier's Redis: ${String(error)}`)
      })
    opening.catch(() => undefined) // the tier's guard tells it
    return opening
  }

  /** The parts once the latest attempt to open has succeeded (a failed first open is tried again by `probe`). */
  get connecting(): Promise<RemoteParts> {
    return this.#attempt
  }

  /** The parts, when Redis has answered and the tier is not degraded. */
  get usable(): RemoteParts | undefined {
    return this.degraded ? undefined : this.#parts
  }

  get parts(): RemoteParts | undefined {
    return this.#parts
  }

  /** A failed call: the tier degrades (once), and the error is returned as E_REMOTE. */
  fault(error: unknown, doing: string): CacheError {
    this.degraded = true
    const failure = asCacheError(error, 'E_REMOTE', `the remote tier failed ${doing}: ${String(error)}`)
    this.failed(failure)
    return failure
  }

  async close(): Promise<void> {
    this.#closed = true
    const parts = await this.#attempt.catch(() => undefined)
    if (parts === undefined) return
    await parts.flight.close().catch(() => undefined)
    if (this.#owned) await closeRedis({ client: parts.client, owned: true })
  }
}
