import { type Observable, type SchedulerLike, Subject, type Subscription, share, takeUntil } from 'rxjs'
import { expire } from '../streams/expire.js'
import { sampleStats } from '../streams/sample-stats.js'
import type { Cache, CacheEntry } from './cache.js'
import { CacheError, isCacheError } from './errors.js'
import type { CacheEvent } from './events.js'
import { type CacheOptions, type Loader, resolveOptions } from './options.js'
import { PrefetchLink } from './prefetch-link.js'
import { type Factory, SingleFlight } from './single-flight.js'
import { type CacheStats, snapshot } from './stats.js'
import { TierStack } from './tier-stack.js'
import {
  ENTRY_FIELDS,
  type EntryOptions,
  type ValueRules,
  checkEntryOptions,
  checkKey,
  checkValue,
  checkWrittenKey,
  illFormedKey,
  invalidKey,
  isValidKey,
  isWellFormed,
  unreadableValue,
} from './validate.js'
import { Watchers } from './watchers.js'

const EXPIRY_SWEEP_PERIOD = 1000

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
  readonly #flights = new SingleFlight<V>()
  readonly #loads = new SingleFlight<V | undefined>()
  readonly #loader: Loader<V> | undefined
  readonly #prefetch: PrefetchLink<V> | undefined
  readonly #watchers: Watchers<V>
  readonly #scheduler: SchedulerLike
  readonly #defaultTtl: number
  readonly #maxKeyLength: number
  readonly #valueRules: ValueRules
  readonly #closing = new Subject<void>()
  #sweep: Subscription | undefined
  #closed: Promise<void> | undefined
  /** Why every operation now fails: closed, or the disk tier could not open. */
  #unusable: CacheError | undefined

  constructor(options?: CacheOptions<V>) {
    const resolved = resolveOptions(options)
    this.#loader = resolved.loader
    this.#scheduler = resolved.scheduler
    this.#defaultTtl = resolved.ttl
    this.#maxKeyLength = resolved.maxKeyLength
    this.#valueRules = {
      codec: resolved.warm === false && resolved.cold === false ? undefined : resolved.codec,
      maxValueBytes: resolved.maxValueBytes,
      heapBounded: resolved.hot.maxBytes !== Infinity,
    }
    const stack = (this.#stack = new TierStack<V>(resolved))
    const cold = stack.cold
    this.#watchers = stack.notifier.watchers = new Watchers<V>(
      {
        current: (key) => stack.peek(key),
        expiryOf: (key) => stack.expiryOf(key),
        due: (key) => stack.expireIfDue(key),
        // A key only the disk holds is read as `peek` reads memory: a watch is not a get.
        load: cold === undefined ? undefined : (key) => cold.peek(key),
      },
      this.#scheduler,
    )
    this.events$ = stack.notifier.bus.events$
    this.stats$ = sampleStats(() => this.stats(), resolved.statsInterval, this.#scheduler).pipe(
      takeUntil(this.#closing),
      share(),
    )
    if (resolved.prefetch !== false && resolved.loader !== undefined) {
      const scheduler = this.#scheduler
      const isCached = (key: string): boolean =>
        this.#loads.has(key) || stack.holdsInMemory(key) || (stack.cold?.tier.holds(key, scheduler.now()) ?? false)
      this.#prefetch = new PrefetchLink<V>(resolved.prefetch, resolved.loader, isCached, stack.notifier)
    }
    this.ready =
      stack.cold === undefined
        ? Promise.resolve()
        : stack.cold.tier.ready.then(
            () => undefined,
            (error: unknown) => {
              this.#unusable ??= isCacheError(error) ? error : new CacheError('E_IO', String(error), { cause: error })
              throw this.#unusable
            },
          )
    this.ready.catch(() => undefined) // operations report it too: an unwatched `ready` must not crash the process
  }

  get(key: string): Promise<V | undefined> {
    if (this.#unusable !== undefined) return Promise.reject(this.#unusable)
    if (!isValidKey(key, this.#maxKeyLength)) return Promise.reject(invalidKey(key, this.#maxKeyLength))
    return this.#read(key)
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
      this.#set(key, value, ttl, tags)
    })
  }

  delete(key: string): Promise<boolean> {
    return this.#run(() => this.#delete(checkKey(key, this.#maxKeyLength)))
  }

  getOrSet(key: string, factory: Factory<V>, options?: EntryOptions): Promise<V> {
    return this.#run(() => {
      checkWrittenKey(key, this.#maxKeyLength)
      if (typeof factory !== 'function') throw new CacheError('E_INVALID_OPTIONS', `argument 'factory' must be a function`)
      const { ttl, tags } = checkEntryOptions(options)
      const load = (cached: V | undefined): V | Promise<V> =>
        cached !== undefined
          ? cached
          : this.#flights.run(key, factory, (value) => {
              this.#checkValue(key, value)
              this.#set(key, value, ttl, tags)
            })
      const cached = this.#stack.get(key)
      return cached instanceof Promise ? cached.then(load) : load(cached)
    })
  }

  getMany(keys: string[]): Promise<(V | undefined)[]> {
    return this.#run(() => Promise.all(this.#keys(keys).map((key) => this.#read(key))))
  }

  setMany(entries: CacheEntry<V>[]): Promise<void> {
    return this.#run(async () => {
      if (!Array.isArray(entries)) throw new CacheError('E_INVALID_OPTIONS', `argument 'entries' must be an array`)
      const checked = entries.map((entry) => {
        if (typeof entry !== 'object' || entry === null) {
          throw new CacheError('E_INVALID_OPTIONS', `every entry must be an object with key and value`)
        }
        checkWrittenKey(entry.key, this.#maxKeyLength)
        this.#checkValue(entry.key, entry.value)
        return checkEntryOptions(entry, ENTRY_FIELDS)
      })
      for (let i = 0; i < entries.length; i++) this.#set(entries[i].key, entries[i].value, checked[i].ttl, checked[i].tags)
    })
  }

  deleteMany(keys: string[]): Promise<number> {
    return this.#run(async () => {
      const deleted = await Promise.all(this.#keys(keys).map((key) => this.#delete(key)))
      return deleted.filter(Boolean).length
    })
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#run(async () => {
      if (typeof tag !== 'string' || tag.length === 0) {
        throw new CacheError('E_INVALID_OPTIONS', `argument 'tag' must be a non-empty string`)
      }
      const deleted = await Promise.all((await this.#stack.keysOfTag(tag)).map((key) => this.#delete(key)))
      return deleted.filter(Boolean).length
    })
  }

  clear(): Promise<void> {
    return this.#run(() => {
      this.#flights.supersedeAll()
      this.#loads.supersedeAll()
      this.#prefetch?.cleared()
      return this.#stack.clear()
    })
  }

  checkpoint(): Promise<void> {
    return this.#run(() => this.#stack.checkpoint())
  }

  watch(key: string): Observable<V | undefined> {
    if (this.#unusable !== undefined) throw this.#unusable
    return this.#watchers.watch(checkKey(key, this.#maxKeyLength))
  }

  stats(): CacheStats {
    const { hot, warm, cold, notifier } = this.#stack
    return snapshot(
      notifier.counters,
      { entries: hot.entries, bytes: hot.bytes, hits: hot.hits },
      warm === undefined ? { entries: 0, bytes: 0, hits: 0 } : { entries: warm.entries, bytes: warm.bytes, hits: warm.hits },
      cold === undefined ? { entries: 0, bytes: 0, diskBytes: 0, hits: 0 } : cold.tier.stats(),
    )
  }

  /** Checkpoints into the cold tier (if any), then releases everything. Rejects if that checkpoint failed. */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#unusable = new CacheError('E_CLOSED', 'the cache is closed')
    this.#flights.abortAll()
    this.#loads.abortAll()
    this.#prefetch?.close()
    this.#sweep?.unsubscribe()
    this.#closing.next()
    this.#closing.complete()
    this.#watchers.complete()
    this.#closed = this.#stack.close()
    return this.#closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  /** A validated read: a value loaded ahead (waiting for one under way), then the tiers, then the loader. */
  #read(key: string): Promise<V | undefined> {
    const prefetch = this.#prefetch
    if (prefetch === undefined) return this.#readTiers(key)
    let ahead: V | undefined
    try {
      ahead = this.#takeAhead(prefetch, key)
    } catch (error) {
      prefetch.accessed(key)
      return Promise.reject(error)
    }
    prefetch.accessed(key)
    if (ahead !== undefined) return Promise.resolve(ahead)
    const pending = prefetch.pending(key)
    if (pending === undefined) return this.#readTiers(key)
    return pending.then(() => this.#takeAhead(prefetch, key) ?? this.#readTiers(key))
  }

  /** The value loaded ahead for `key`, moved into hot; undefined when none waits. Throws as a loaded value is refused. */
  #takeAhead(prefetch: PrefetchLink<V>, key: string): V | undefined {
    const ahead = prefetch.buffer.take(key)
    if (ahead === undefined) return undefined
    this.#checkValue(key, ahead)
    this.#set(key, ahead, 0, undefined)
    this.#stack.notifier.prefetchHit(key)
    return ahead
  }

  #readTiers(key: string): Promise<V | undefined> {
    const found = this.#stack.get(key)
    if (this.#loader === undefined) return Promise.resolve(found)
    if (found instanceof Promise) return found.then((value) => (value !== undefined ? value : this.#load(key)))
    return found !== undefined ? Promise.resolve(found) : this.#load(key)
  }

  /** Read-through for a key every tier missed: one loader call per key at a time. */
  #load(key: string): Promise<V | undefined> {
    // What the loader returns is cached under the key: it must be a key a write would take.
    if (!isWellFormed(key)) return Promise.reject(illFormedKey())
    const loader = this.#loader as Loader<V>
    const notifier = this.#stack.notifier
    const started = this.#scheduler.now()
    const load = async (context: { signal: AbortSignal }): Promise<V | undefined> => {
      try {
        return await loader(key, context)
      } catch (error) {
        const failure = new CacheError('E_LOADER', `the loader failed for '${key}'`, { cause: error })
        notifier.error(failure, key)
        throw failure
      } finally {
        notifier.loaded(key, this.#scheduler.now() - started)
      }
    }
    return this.#loads.run(key, load, (value) => {
      if (value === undefined) return
      this.#checkValue(key, value)
      this.#set(key, value, 0, undefined)
    })
  }

  #checkValue(key: string, value: V): void {
    checkValue(value, this.#valueRules)
    try {
      this.#stack.checkFits(key, value)
    } catch (error) {
      throw unreadableValue(error)
    }
  }

  #set(key: string, value: V, ttl: number, tags: string[] | undefined): void {
    this.#flights.supersede(key)
    this.#loads.supersede(key)
    this.#prefetch?.written(key)
    this.#stack.set(key, value, ttl === 0 ? this.#defaultTtl : ttl, tags)
    if (this.#sweep === undefined && this.#stack.sweep.pending) this.#startSweep()
  }

  /** Whether a live entry was there; waits for the disk copy's tombstone when there is one. */
  #delete(key: string): boolean | Promise<boolean> {
    this.#flights.supersede(key)
    this.#loads.supersede(key)
    this.#prefetch?.written(key)
    const { existed, tombstone } = this.#stack.delete(key)
    return tombstone === undefined ? existed : tombstone.then((found) => existed || found)
  }

  #keys(keys: string[]): string[] {
    if (!Array.isArray(keys)) throw new CacheError('E_INVALID_OPTIONS', `argument 'keys' must be an array of keys`)
    for (const key of keys) checkKey(key, this.#maxKeyLength)
    return keys
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

  #startSweep(): void {
    const sweep = this.#stack.sweep
    this.#sweep = expire(
      { period: EXPIRY_SWEEP_PERIOD, pending: () => sweep.pending, sweepSlice: () => sweep.slice() },
      this.#scheduler,
    ).subscribe({ complete: () => (this.#sweep = undefined) })
  }
}
