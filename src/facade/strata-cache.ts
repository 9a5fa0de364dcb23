import { type Observable, ReplaySubject, share, takeUntil } from 'rxjs'
import { sampleStats } from '../../streams/sample-stats.js'
import { BulkCalls } from './bulk-calls.js'
import type { Cache, CacheEntry, EntryOptions } from '../cache.js'
import { deepFreeze, freezingCodec } from '../codec/deep-freeze.js'
import { asCacheError, CacheError } from '../errors.js'
import type { CacheEvent } from '../observe/events.js'
import { type CacheOptions, resolveOptions } from '../options/options.js'
import { PrefetchLink } from '../prefetch/prefetch-link.js'
import { ReadThrough } from '../read-through/read-through.js'
import type { Factory } from '../read-through/single-flight.js'
import { type CacheStats, snapshot } from '../observe/stats.js'
import { TierStack } from '../stack/tier-stack.js'
import {
  type ValueRules,
  checkEntries,
  checkEntryOptions,
  checkFactory,
  checkKey,
  checkKeys,
  checkTag,
  checkValue,
  checkWrittenKey,
  illFormedKey,
  invalidKey,
  isValidKey,
  unreadableValue,
} from './validate.js'
import { Watchers } from '../observe/watchers.js'
import { isWellFormed } from '../codec/well-formed.js'

/**
 * Creates a cache. Throws `CacheError` `E_INVALID_OPTIONS`, naming the
 * option, when an option is wrong.
 *
 * ## Example
 * ```ts
 * const cache = createCache<User>({ hot: { maxEntries: 1000 }, warm: { maxBytes: 64 << 20 }, ttl: 60_000 })
 * const user = await cache.getOrSet(`user:${id}`, ({ signal }) => fetchUser(id, { signal }))
 * ```
 */
export function createCache<V = unknown>(options?: CacheOptions<V>): Cache<V> {
  return new StrataCache<V>(options)
}

class StrataCache<V> implements Cache<V> {
  readonly events$: Observable<CacheEvent>
  readonly stats$: Observable<CacheStats>
  readonly ready: Promise<void>
  readonly #stack: TierStack<V>
  readonly #readThrough: ReadThrough<V>
  readonly #watchers: Watchers<V>
  readonly #maxKeyLength: number
  readonly #valueRules: ValueRules
  /** Replays the close to late subscribers too: stats$ subscribed after close completes at once. */
  readonly #closing = new ReplaySubject<void>(1)
  readonly #bulk: BulkCalls
  #closed: Promise<void> | undefined
  /** Why every operation now fails: closed, or the disk tier could not open. */
  #unusable: CacheError | undefined

  constructor(options?: CacheOptions<V>) {
    const given = resolveOptions(options)
    // Data is frozen when stored and when decoded: a value reads, and refuses changes, the same from any tier.
    const freezes = given.values === 'data'
    const resolved = freezes ? { ...given, codec: freezingCodec(given.codec) } : given
    const { scheduler, loader } = resolved
    this.#maxKeyLength = resolved.maxKeyLength
    this.#bulk = new BulkCalls(scheduler, this.#closing, () => this.#unusable as CacheError)
    this.#valueRules = {
      // One rule for every configuration, unless the application asked for live objects in hot alone.
      codec: resolved.values === 'any' ? undefined : resolved.codec,
      maxValueBytes: resolved.maxValueBytes,
      heapBounded: resolved.hot.maxBytes !== Infinity,
    }
    // The watchers read the stack and the stack's notifier tells them of changes: made first, they read it once it exists.
    this.#watchers = new Watchers<V>(
      {
        current: (key) => stack.peek(key),
        expiryOf: (key) => stack.expiryOf(key),
        due: (key) => stack.expireIfDue(key),
        // A key only the disk holds is read as `peek` reads memory: a watch is not a get.
        load: resolved.cold === false ? undefined : (key) => stack.peekBelow(key) as Promise<V | undefined>,
      },
      scheduler,
    )
    const stack = (this.#stack = new TierStack<V>(resolved, this.#watchers))
    const { notifier } = stack
    this.events$ = notifier.bus.events$
    this.stats$ = sampleStats(() => this.stats(), resolved.statsInterval, scheduler).pipe(takeUntil(this.#closing), share())
    // A load ahead is wasted on a key the cache holds or loads already, and on one a write would refuse.
    const needless = (key: string): boolean => !isWellFormed(key) || readThrough.isLoading(key) || stack.holds(key)
    const readThrough = (this.#readThrough = new ReadThrough<V>({
      tiers: {
        get: (key) => stack.get(key),
        getMany: (keys) => stack.getMany(keys),
        set: (key, value, ttl, tags) => stack.set(key, freezes ? deepFreeze(value) : value, ttl === 0 ? resolved.ttl : ttl, tags),
        delete: (key) => stack.delete(key),
        clear: () => stack.clear(),
        notifier,
      },
      admission: {
        keyProblem: (key) => (isWellFormed(key) ? undefined : illFormedKey()),
        checkValue: (key, value) => this.#checkValue(key, value),
      },
      loader,
      ahead: resolved.prefetch === false || loader === undefined ? undefined : new PrefetchLink<V>(resolved.prefetch, loader, needless, notifier),
      scheduler,
    }))
    this.ready = stack.ready.then(
      () => undefined,
      (error: unknown) => {
        this.#unusable ??= asCacheError(error, 'E_IO', String(error))
        throw this.#unusable
      },
    )
    this.ready.catch(() => undefined) // operations report it too: an unwatched `ready` must not crash the process
  }

  get(key: string): Promise<V | undefined> {
    if (this.#unusable !== undefined) return Promise.reject(this.#unusable)
    if (!isValidKey(key, this.#maxKeyLength)) return Promise.reject(invalidKey(key, this.#maxKeyLength))
    return this.#readThrough.read(key)
  }

  peek(key: string): V | undefined {
    if (this.#unusable !== undefined) throw this.#unusable
    return this.#stack.peek(checkKey(key, this.#maxKeyLength))
  }

  has(key: string): Promise<boolean> {
    return this.#run(() => this.#stack.has(checkKey(key, this.#maxKeyLength)))
  }

  set(key: string, value: V, options?: EntryOptions): Promise<void> {
    return this.#run(() => {
      checkWrittenKey(key, this.#maxKeyLength)
      this.#checkValue(key, value)
      const { ttl, tags } = checkEntryOptions(options)
      return this.#readThrough.set(key, value, ttl, tags)
    })
  }

  delete(key: string): Promise<boolean> {
    return this.#run(() => this.#readThrough.delete(checkKey(key, this.#maxKeyLength)))
  }

  getOrSet<R extends V | undefined = V>(key: string, factory: Factory<R>, options?: EntryOptions): Promise<V | R> {
    return this.#run(() => {
      checkWrittenKey(key, this.#maxKeyLength)
      checkFactory(factory)
      const { ttl, tags } = checkEntryOptions(options)
      return this.#readThrough.getOrSet(key, factory, ttl, tags)
    })
  }

  getMany(keys: string[]): Promise<(V | undefined)[]> {
    return this.#run(() => this.#bulk.all(checkKeys(keys, this.#maxKeyLength), (run) => this.#readThrough.readMany(run)))
  }

  setMany(entries: CacheEntry<V>[]): Promise<void> {
    return this.#run(async () => {
      const checked = checkEntries<V>(entries, this.#maxKeyLength, (key, value) => this.#checkValue(key, value))
      // A value that went straight to a full lower tier is stored, and waits for room there.
      const waits: Promise<void>[] = []
      for (let i = 0; i < entries.length; i++) {
        const wait = this.#readThrough.set(entries[i].key, entries[i].value, checked[i].ttl, checked[i].tags)
        if (wait !== undefined) waits.push(wait)
      }
      if (waits.length > 0) await Promise.all(waits)
    })
  }

  deleteMany(keys: string[]): Promise<number> {
    return this.#run(() => this.#bulk.count(checkKeys(keys, this.#maxKeyLength), (key) => this.#readThrough.delete(key)))
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#run(() => {
      const keys = this.#stack.keysOfTag(checkTag(tag))
      return keys instanceof Promise ? keys.then((found) => this.#deleteTagged(found, tag)) : this.#deleteTagged(keys, tag)
    })
  }

  clear(): Promise<void> {
    return this.#run(() => this.#readThrough.clear())
  }

  checkpoint(): Promise<void> {
    return this.#run(() => this.#stack.checkpoint())
  }

  watch(key: string): Observable<V | undefined> {
    // After close it completes at once, as events$ and stats$ do.
    if (this.#closed !== undefined) return this.#watchers.watch(key)
    if (this.#unusable !== undefined) throw this.#unusable
    return this.#watchers.watch(checkKey(key, this.#maxKeyLength))
  }

  stats(): CacheStats {
    const tiers = this.#stack.stats()
    return snapshot(this.#stack.notifier.counters, tiers.hot, tiers.warm, tiers.cold)
  }

  /** Checkpoints into the cold tier (if any), then releases everything. Rejects if that checkpoint failed. */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#unusable = new CacheError('E_CLOSED', 'the cache is closed')
    this.#readThrough.close()
    this.#closing.next()
    this.#closing.complete()
    this.#watchers.complete()
    this.#closed = this.#stack.close()
    return this.#closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** Throws the `CacheError` a write of `value` under `key` rejects with: one no tier configured could hold, too. */
  #checkValue(key: string, value: V): void {
    checkValue(value, this.#valueRules)
    try {
      this.#stack.checkFits(key, value)
    } catch (error) {
      throw unreadableValue(error)
    }
  }

  /** Deletes the keys that still carry `tag` when their slice comes: one written since without it stays. */
  #deleteTagged(keys: readonly string[], tag: string): Promise<number> {
    const tags = this.#stack.tags
    return this.#bulk.count(keys, (key) => tags.tagsOf(key)?.includes(tag) === true && this.#readThrough.delete(key))
  }

  /** Runs an operation as a Promise: its result, or its error as a rejection. */
  #run<T>(operation: () => T | Promise<T>): Promise<T> {
    if (this.#unusable !== undefined) return Promise.reject(this.#unusable)
    try {
      return Promise.resolve(operation())
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
