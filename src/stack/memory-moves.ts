import type { SchedulerLike } from 'rxjs'
import type { CacheError } from '../errors.js'
import type { EvictionReason, TierName } from '../observe/events.js'
import type { Notifier } from '../observe/notifier.js'
import type { LowerEntry, LowerTier } from '../tiers/lower-tier.js'
import type { HotTier } from '../tiers/memory/hot-tier.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'
import { KeptBytes } from './kept-bytes.js'
import type { MemoryEntries } from './memory-entries.js'
import type { WarmValues } from './warm-values.js'

/** The tiers entries move between, and what moving them uses. */
export interface MoveRoutes<V> {
  hot: HotTier
  warm: WarmTier | undefined
  /** With warm: its bytes as values. */
  warmValues: WarmValues<V> | undefined
  /** The first lower tier that takes evictions (the disk), if any. */
  below: LowerTier | undefined
  /** Told of each move from hot to warm, for a checkpoint under way. */
  memory: MemoryEntries
  scheduler: SchedulerLike
  /** Encodes, or throws `E_INVALID_VALUE`. */
  encode(value: unknown): Uint8Array
  notifier: Notifier<V>
}

/** What a move needs of the stack: whether memory holds a key, and the exits of an entry that leaves the cache. */
export interface Departures {
  holdsInMemory(key: string): boolean
  /** The entry left the cache from `tier`; what its write owes the tiers below goes down. */
  left(key: string, tier: TierName, reason: EvictionReason): void
  /** The entry expired in memory; the same, told as an expiry. */
  expired(key: string): void
}

/**
 * The moves of entries between memory's tiers and the first lower tier:
 * promotion into hot (from warm, and from below), demotion out of hot (into
 * warm, or down) and out of warm (down). Direct calls, no flow between the
 * tiers: each runs inside the call that made room or found the value.
 */
export class MemoryMoves<V> {
  readonly #hot: HotTier
  readonly #warm: WarmTier | undefined
  readonly #warmValues: WarmValues<V> | undefined
  readonly #below: LowerTier | undefined
  readonly #memory: MemoryEntries
  readonly #scheduler: SchedulerLike
  readonly #encode: (value: unknown) => Uint8Array
  readonly #notifier: Notifier<V>
  readonly #departures: Departures
  /** With warm and a lower tier: the bytes values read from below came up with, for warm when they leave hot. */
  readonly #kept: KeptBytes | undefined

  constructor(routes: MoveRoutes<V>, departures: Departures) {
    this.#hot = routes.hot
    this.#warm = routes.warm
    this.#warmValues = routes.warmValues
    this.#below = routes.below
    this.#memory = routes.memory
    this.#scheduler = routes.scheduler
    this.#encode = routes.encode
    this.#notifier = routes.notifier
    this.#departures = departures
    // A quarter of warm's budget at most: bytes held beside hot's values, on top of what warm holds.
    if (this.#warm !== undefined && this.#below !== undefined) this.#kept = new KeptBytes(this.#warm.maxBytes / 4)
  }

  /** Memory was emptied: no value in hot came up from below any more. */
  cleared(): void {
    this.#kept?.clear()
  }

  /** A warm hit moves up into hot; a value too large for hot stays where it was. */
  promoteFromWarm(key: string, slot: number, value: V): void {
    const warm = this.#warm as WarmTier
    const expiresAt = warm.expiryAt(slot)
    const keptUntil = warm.keptUntilAt(slot)
    // A view: freeing the slot lets nothing overwrite its bytes within this call (see ByteArena).
    const bytes = warm.valueAt(slot)
    warm.removeAt(slot)
    if (!this.#hot.set(key, value, expiresAt, keptUntil)) {
      warm.set(key, bytes, expiresAt, keptUntil)
      return
    }
    this.#notifier.promoted(key, 'warm', 'hot')
  }

  /** A value read from a lower tier moves up into hot, unless memory has the key: its copy is at least as new. */
  promoteFromBelow(key: string, value: V, entry: LowerEntry, tier: LowerTier): void {
    if (this.#departures.holdsInMemory(key)) return
    if (!this.#hot.set(key, value, entry.expiresAt)) return
    this.#kept?.keep(key, value, entry.stored)
    this.#notifier.promoted(key, tier.name, 'hot')
  }

  /** Hot let an entry go for room: down to warm, or to the first lower tier, or out of the cache. */
  hotEvicted(key: string, value: unknown, expiresAt: number, keptUntil: number): void {
    const warm = this.#warm
    const below = this.#below
    if (warm === undefined) {
      if (below === undefined) return this.#notifier.evicted(key, 'hot', 'capacity')
      // A value read from a lower tier and promoted is still there: no encoding to find that out.
      if (below.holds(key, this.#scheduler.now())) return this.#notifier.demoted(key, 'hot', below.name)
      const bytes = this.#encodeOrLeave(key, value)
      if (bytes !== undefined) this.#demoteInto(below, key, bytes, expiresAt, 'hot')
      return
    }
    // It expired on its way down (and is not kept as a stale value).
    if (expiresAt !== 0 && expiresAt <= this.#scheduler.now() && !(keptUntil > this.#scheduler.now())) return this.#departures.expired(key)
    // Read from below and unchanged since: the bytes it came up with, no encoding (docs/architecture.md, the stack).
    const kept = this.#kept !== undefined && this.#kept.size !== 0 ? this.#kept.take(key, value) : undefined
    const bytes = kept ?? this.#encodeOrLeave(key, value)
    if (bytes === undefined) return
    if (!warm.set(key, bytes, expiresAt, keptUntil)) {
      // Too large for warm: straight down to the first lower tier, when there is one.
      if (below !== undefined) return this.#demoteBelow(below, key, bytes, expiresAt, 'hot')
      return this.#notifier.evicted(key, 'hot', 'too-large')
    }
    this.#memory.moved(key)
    ;(this.#warmValues as WarmValues<V>).remember(key, value as V)
    this.#notifier.demoted(key, 'hot', 'warm')
  }

  /** Warm let an entry go for room: `view` shows its bytes only during this call. */
  warmEvicted(key: string, view: Uint8Array, expiresAt: number): void {
    const below = this.#below
    if (below === undefined) return this.#notifier.evicted(key, 'warm', 'capacity')
    if (below.holds(key, this.#scheduler.now())) return this.#notifier.demoted(key, 'warm', below.name)
    // A copy: the lower tier writes it later, when compaction may have reused the view's slab.
    this.#demoteInto(below, key, view.slice(), expiresAt, 'warm')
  }

  #encodeOrLeave(key: string, value: unknown): Uint8Array | undefined {
    try {
      return this.#encode(value)
    } catch (error) {
      this.#notifier.error(error as CacheError, key)
      this.#departures.left(key, 'hot', 'capacity')
      return undefined
    }
  }

  /** An entry memory let go, to the lower tier unless it holds the key's value already. */
  #demoteBelow(below: LowerTier, key: string, bytes: Uint8Array, expiresAt: number, from: TierName): void {
    if (below.holds(key, this.#scheduler.now())) return this.#notifier.demoted(key, from, below.name)
    this.#demoteInto(below, key, bytes, expiresAt, from)
  }

  #demoteInto(below: LowerTier, key: string, bytes: Uint8Array, expiresAt: number, from: TierName): void {
    const refused = below.demote({ key, stored: bytes, expiresAt })
    if (refused !== undefined) return this.#departures.left(key, from, refused)
    this.#notifier.demoted(key, from, below.name)
  }
}
