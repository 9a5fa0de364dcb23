import type { CacheError } from '../errors.js'
import type { TierName } from '../observe/events.js'
import type { ColdTierStats } from '../observe/stats.js'

/** An entry as a lower tier takes it and gives it back: encoded bytes, an absolute expiry (0 for none). */
export interface LowerEntry {
  key: string
  stored: Uint8Array
  expiresAt: number
}

/** Why a lower tier could not take an entry handed down: it leaves the cache with this reason. */
export type Refusal = 'too-large' | 'io'

/**
 * Why a value the tier held left it, other than by a write or delete of its
 * key. The first four may leave a copy in memory (the stack judges); the
 * last three were the key's only copy below memory's.
 *
 * - `evicted`: for room;
 * - `expired`: a stored value that expired and was dropped (told only when tagged: its tags go);
 * - `corrupt`: found corrupt when read (told only when tagged);
 * - `io`: a failed write dropped it;
 * - `too-large`: it fits the tier, but not together with its tags;
 * - `expired-in-transit`: it expired before it was stored;
 * - `closing`: the tier's size bound pushed it out while memory was written down at close.
 */
export type LowerLeaveReason = 'evicted' | 'expired' | 'corrupt' | 'io' | 'too-large' | 'expired-in-transit' | 'closing'

/** What a lower tier reports upward, given at its construction. */
export interface LowerTierExits {
  left(key: string, reason: LowerLeaveReason): void
  /** A fault that does not fail the call in hand (a failed batch write, a corrupt record). */
  error(error: CacheError, key?: string): void
  /**
   * The tier cannot do its work now (its I/O fails): the stack stops using
   * it and retries `probe` with backoff. Told once per failure it notices;
   * its first open failing is told by `ready` instead.
   */
  failed(error: CacheError): void
}

/** What memory holds, handed down by the stack for a checkpoint or a close. */
export interface MemoryImage {
  /** Every live entry in memory as bytes; hot values are encoded as they are reached. */
  entries(): Iterable<LowerEntry>
  /** The keys of every live entry in memory. */
  keys(): Iterable<string>
}

/**
 * A tier below memory: a disk, a browser's IndexedDB, a Redis server. It
 * speaks bytes and absolute expiries, and knows nothing of the tiers above:
 * the stack decides what goes down and what comes up, and judges whether a
 * value that left this tier is still held in memory. Its requests go
 * through a bounded inbox (`inbox` option: capacity, and what a full inbox
 * does to a request whose sender awaits).
 *
 * Its one invariant, which the stack relies on: a key's copy here is read
 * only while it is the key's current value (`mask`, `invalidate`).
 */
export interface LowerTier {
  readonly name: TierName
  /** Whether memory's evictions go down into it (a disk does; a remote tier, written on every write, does not). */
  readonly takesEvictions: boolean
  /** Resolves when the tier can answer without waiting; rejects (E_IO, E_LOCKED...) if it never will. */
  readonly ready: Promise<void>
  readonly isOpen: boolean
  /** Whether the tier holds the key's current, live value: no I/O, false until open. */
  holds(key: string, now: number): boolean
  /** Whether an encoded value of this size could ever be held, tags aside. */
  fits(key: string, encodedBytes: number): boolean
  /** The key's current value, or undefined; one request per key at a time. Rejects with E_BACKPRESSURE when the inbox says so. */
  read(key: string): Promise<LowerEntry | undefined>
  /**
   * `read` of each key, as one request of the inbox (one unit, one wait or
   * refusal): the entries in the keys' order. Rejects as a read would.
   */
  readMany(keys: readonly string[]): Promise<(LowerEntry | undefined)[]>
  /** Whether the tier holds the key's live value, once it is open. */
  has(key: string): boolean | Promise<boolean>
  /** Takes an entry evicted from memory, fail-fast: why not, when it cannot (a full inbox is `io`). */
  demote(entry: LowerEntry): Refusal | undefined
  /**
   * Takes a written value too large for memory. Why not, when it cannot;
   * a Promise when the inbox is full and waits: it resolves once there is room.
   * Call `checkRoom` first, before anything changes.
   */
  put(entry: LowerEntry): Refusal | undefined | Promise<void>
  /** Throws E_BACKPRESSURE when a `put` now would be refused for a full inbox. */
  checkRoom(): void
  /** The key was written above: its copy here must not be read again (and is owed a removal). */
  mask(key: string): void
  /** The key's newer value left memory without coming down: what its write owes goes down now. */
  released(key: string): void
  /** The key was deleted above: resolves with whether the tier held its value, once removed; undefined when it surely did not. */
  invalidate(key: string): Promise<boolean> | undefined
  clear(): Promise<void>
  /** Writes down every entry of memory it does not hold yet and what it owes, durably. */
  checkpoint(memory: MemoryImage): Promise<void>
  /**
   * After a failure: tries the tier again, resolving once it works. A tier
   * that never opened opens; one that did writes what it owes (tombstones,
   * a clear) and checks that it can write. Until then the stack sends it no
   * reads or entries, only `mask`, `clear` and `close`.
   */
  probe(): Promise<void>
  /** Checkpoints, reports what did not stay (`closing`), and releases the tier. */
  close(memory: MemoryImage): Promise<void>
  stats(): ColdTierStats
}
