import type { Observable } from 'rxjs'
import type { CacheEvent } from './observe/events.js'
import type { Factory } from './read-through/single-flight.js'
import type { CacheStats } from './observe/stats.js'
import type { ServeOptions } from './options/serve-options.js'

export interface CacheEntry<V> extends EntryOptions {
  key: string
  value: V
}

/**
 * A multi-tier cache. Operations return Promises; the cache's life is
 * visible through `events$`, `watch(key)` and `stats$`. Every operation on a
 * closed cache rejects with `CacheError` code `E_CLOSED`; the three streams,
 * subscribed after close, complete at once.
 *
 * `getMany`, `deleteMany` and `deleteByTag` work in slices of at most 4096
 * keys or 5 ms, on the scheduler, yielding the event loop between them; the
 * first slice runs at once. On a virtual scheduler a call of more than 4096
 * keys ends once the scheduler has run its slices.
 */
export interface Cache<V> extends AsyncDisposable {
  /** Stores `value` under `key` in the top tier and drops any older copy below. */
  set(key: string, value: V, options?: EntryOptions): Promise<void>
  /** The value, from the highest tier that holds it; undefined on a miss. */
  get(key: string): Promise<V | undefined>
  /** Whether a live entry exists, without counting a hit or touching recency. */
  has(key: string): Promise<boolean>
  /** True when there was a live entry to delete. */
  delete(key: string): Promise<boolean>
  /**
   * The cached value, or the factory's, stored with `options`. Concurrent
   * callers for one key share one factory call (and get what the factory of
   * the first of them returned). The factory returning `undefined` means
   * "not found": the call resolves undefined and nothing is stored, so a
   * factory typed to return `V` gives `Promise<V>`, and one that may return
   * undefined gives `Promise<V | undefined>`. Each factory call counts as a
   * load (`stats().loads`, a `load` event); its failure rejects every caller
   * with `E_LOADER` (the factory's error as `cause`, also an `error` event).
   * A call for the key from inside its own factory (through awaits, or the
   * factories of other keys) rejects with `E_REENTRANT` rather than wait for
   * itself. `options` may also carry the cache's `ServeOptions`
   * (stale-while-revalidate, grace, timeouts, breaker), each winning over
   * the cache's for this call.
   */
  getOrSet<R extends V | undefined = V>(key: string, factory: Factory<R>, options?: GetOrSetOptions): Promise<V | R>
  getMany(keys: string[]): Promise<(V | undefined)[]>
  /** Checks every entry first: one bad entry rejects the call and stores none. */
  setMany(entries: CacheEntry<V>[]): Promise<void>
  /** How many of the keys had a live entry. */
  deleteMany(keys: string[]): Promise<number>
  /** Deletes every entry carrying `tag` (one rewritten without it while the call runs stays); how many there were. */
  deleteByTag(tag: string): Promise<number>
  /** Empties every tier; with a write-back writer, flushes its dirty ops first (and rejects as `flush` does, clearing nothing). */
  clear(): Promise<void>
  /**
   * Writes every hot and warm entry into the cold tier and makes it durable
   * (data and directory fsync). Resolves at once without a cold tier.
   */
  checkpoint(): Promise<void>
  /**
   * Writes every op dirty now (write-back) to the source: resolves once each
   * has been written, rejects `E_WRITER` (the source's error as `cause`) with
   * the first batch that fails every retry; those ops stay dirty. Resolves at
   * once without a write-back writer.
   */
  flush(): Promise<void>
  /**
   * Resolves when the cold tier has opened (at once without one); rejects with `E_IO` or `E_LOCKED` naming the
   * directory when its first open fails. The cache still serves from memory then: the tier is `degraded`
   * (an event, and `stats().tiers.cold.state`) and is retried until it opens (`recovered`).
   */
  readonly ready: Promise<void>
  /** The value if an in-memory tier holds it, synchronously; changes no recency and counts nothing. */
  peek(key: string): V | undefined
  /**
   * The key's value now, then each new value; undefined when it is deleted,
   * expires, is evicted from the last tier or cleared. Moves between tiers
   * are not changes. Equal consecutive values (`Object.is`) are not repeated.
   * A key only the disk holds is read first (as a `get` would), and the first
   * value comes when the disk answers. Completes on close.
   */
  watch(key: string): Observable<V | undefined>
  /** Every event, as it happens. Hot: a late subscriber sees only what follows. Completes on close. */
  readonly events$: Observable<CacheEvent>
  stats(): CacheStats
  /** `stats()` every `statsInterval` ms while anyone subscribes; shared. Completes on close. */
  readonly stats$: Observable<CacheStats>
  /**
   * Flushes a write-back writer's dirty ops (for at most `closeTimeout` ms;
   * what is left stays in its journal for the next open), checkpoints into
   * the cold tier, then releases every timer, subscription, factory and file;
   * idempotent.
   */
  close(): Promise<void>
}

export interface EntryOptions {
  /** Time to live in ms, overriding the cache's default; Infinity for none. */
  ttl?: number
  /**
   * Labels for `deleteByTag`: non-empty, well-formed strings, at most 65,535
   * bytes together as UTF-8 with one to three bytes of length each (what a
   * disk record can hold; the bound is the same without a cold tier).
   */
  tags?: string[]
}

/**
 * A `getOrSet` call's options: the entry's, and how to serve it when its
 * factory is slow or fails, each over the cache's own. `set` takes none of
 * the latter (it calls no source), but an entry it writes is kept past its
 * expiry for the cache's `staleWhileRevalidate` and `grace`.
 */
export interface GetOrSetOptions extends EntryOptions, ServeOptions {}
