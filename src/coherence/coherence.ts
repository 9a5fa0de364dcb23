import type { SchedulerLike, Subscription } from 'rxjs'
import type { Notifier } from '../observe/notifier.js'
import type { Invalidation, Transport, TransportState } from './invalidation.js'
import type { LocalVersions } from './local-versions.js'

/** What an invalidation does to this instance's tiers: hot, warm and the disk. */
export interface LocalCopies {
  /** Drops the key's copy in every local tier (loads of it under way are superseded). */
  drop(key: string): void
  /** Drops every local copy. */
  dropAll(): void
  /** How many local copies there are (for the `dropped` count of a resync). */
  count(): number
  keysOfTag(tag: string): readonly string[] | Promise<readonly string[]>
}

export interface CoherenceParts {
  transport: Transport
  origin: string
  versions: LocalVersions
  local: LocalCopies
  notifier: Notifier<unknown>
  scheduler: SchedulerLike
  maxStaleness: number
  /** A disk tier keeps copies across restarts: they are dropped when the bus first connects, since what was missed while down is unknown. */
  keepsCopiesAcrossRestarts: boolean
  /** Raises the version clock of a cache with no remote tier past every version seen. */
  observed?: (version: number) => void
  /** With a remote tier: told every clear and every change of the bus, so that reads may name the generation themselves. */
  generation?: ClearFollower
}

/** What follows the clears the bus tells (see `KnownGeneration`). */
export interface ClearFollower {
  cleared(version: number): void
  connected(): void
  disconnected(): void
  forgetAll(): void
}

/**
 * Keeps this instance's local copies coherent with the other instances':
 * applies their invalidations (a copy newer than the message is kept), drops everything after a gap, and says whether local copies may
 * be served now (`trusted`: the bus is connected, or has been disconnected
 * for less than `maxStaleness`).
 */
export class Coherence {
  /** Resolves once the bus has connected for the first time. */
  readonly connected: Promise<void>
  readonly #parts: CoherenceParts
  readonly #subscriptions: Subscription[] = []
  /** Since when the bus has been disconnected (scheduler time); undefined while connected. -1 before it first connects. */
  #disconnectedAt: number | undefined = -1
  #onConnected: (() => void) | undefined
  /** Tag invalidations whose keys the disk is still looking up: applied before `stop` resolves. */
  readonly #pendingTags = new Set<Promise<void>>()

  constructor(parts: CoherenceParts) {
    this.#parts = parts
    this.connected = new Promise((resolve) => {
      this.#onConnected = resolve
    })
    this.#subscriptions.push(parts.transport.messages$.subscribe({ next: (message) => this.apply(message), error: () => this.#lost() }))
    this.#subscriptions.push(parts.transport.state$.subscribe({ next: (state) => this.#changed(state), error: () => this.#lost() }))
  }

  /** Whether local copies may be served: false from the moment the bus disconnects (after `maxStaleness`) until it resyncs. */
  get trusted(): boolean {
    const since = this.#disconnectedAt
    if (since === undefined) return true
    if (since === -1) return false
    return this.#parts.scheduler.now() - since < this.#parts.maxStaleness
  }

  /** Applies another instance's invalidation to the local copies. */
  apply(message: Invalidation): void {
    const { versions, local, origin } = this.#parts
    if (message.origin === origin) return
    this.#parts.observed?.(message.version)
    if (message.keys !== undefined) {
      for (const key of message.keys) this.#dropOlder(key, message.version)
      return
    }
    if (message.tag !== undefined) {
      const keys = local.keysOfTag(message.tag)
      if (keys instanceof Promise) {
        const applying: Promise<void> = keys
          .then((found) => this.#dropAllOlder(found, message.version))
          .catch(() => undefined)
          .finally(() => this.#pendingTags.delete(applying))
        this.#pendingTags.add(applying)
      } else this.#dropAllOlder(keys, message.version)
      return
    }
    this.#parts.generation?.cleared(message.version)
    versions.invalidatedAll(message.version)
    local.dropAll()
  }

  /**
   * Applies no message from now on, and resolves once every message taken
   * so far has been applied to the local copies (a tag's keys may still be
   * looked up on disk). Its only close: it holds nothing else.
   */
  async stop(): Promise<void> {
    for (const subscription of this.#subscriptions) subscription.unsubscribe()
    this.#subscriptions.length = 0
    // No clear is told from now on.
    this.#parts.generation?.disconnected()
    while (this.#pendingTags.size > 0) await Promise.all(this.#pendingTags)
  }

  #dropAllOlder(keys: readonly string[], version: number): void {
    for (const key of [...keys]) this.#dropOlder(key, version)
  }

  #dropOlder(key: string, version: number): void {
    const versions = this.#parts.versions
    versions.invalidated(key, version)
    // Kept only when newer: two clocks' writes in one ms may tie, and both instances must then drop, not keep their own.
    if (versions.of(key) > version) return
    versions.forget(key)
    this.#parts.local.drop(key)
  }

  #changed(change: TransportState): void {
    const { notifier, scheduler, local, versions, generation } = this.#parts
    switch (change.state) {
      case 'connected': {
        const first = this.#disconnectedAt === -1
        this.#disconnectedAt = undefined
        if (first && this.#parts.keepsCopiesAcrossRestarts) {
          versions.forgetAll()
          local.dropAll()
        }
        generation?.connected()
        notifier.busChanged('connected')
        this.#onConnected?.()
        this.#onConnected = undefined
        return
      }
      case 'disconnected':
        generation?.disconnected()
        if (this.#disconnectedAt === undefined) this.#disconnectedAt = scheduler.now()
        notifier.busChanged('disconnected')
        return
      case 'resynced': {
        let dropped = 0
        if (change.gap) {
          dropped = local.count()
          versions.forgetAll()
          local.dropAll()
          generation?.forgetAll()
        }
        generation?.connected()
        this.#disconnectedAt = undefined
        notifier.busChanged('resynced', change.replayed, dropped)
        this.#onConnected?.()
        this.#onConnected = undefined
        return
      }
    }
  }

  /** The transport's streams failed for good: local copies are never trusted again. */
  #lost(): void {
    this.#parts.generation?.disconnected()
    if (this.#disconnectedAt === undefined) this.#disconnectedAt = this.#parts.scheduler.now()
  }
}
