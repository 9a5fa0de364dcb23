import { type Observable, ReplaySubject, type SchedulerLike, type Subscription, share, takeUntil } from 'rxjs'
import { expire } from '../../streams/expire.js'
import { sampleStats } from '../../streams/sample-stats.js'
import { BulkCalls, countTrue } from './bulk-calls.js'
import type { Cache, CacheEntry } from '../cache.js'
import { deepFreeze, freezingCodec } from '../codec/deep-freeze.js'
import { CacheError, isCacheError } from '../errors.js'
import type { CacheEvent } from '../observe/events.js'
import { type CacheOptions, type Loader, resolveOptions } from '../options/options.js'
import { PrefetchLink } from '../prefetch/prefetch-link.js'
import { type Factory, SingleFlight } from '../read-through/single-flight.js'
import { callSource } from '../read-through/source-call.js'
import { type CacheStats, snapshot } from '../observe/stats.js'
import { TierStack } from '../stack/tier-stack.js'
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
import { Watchers } from '../observe/watchers.js'

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
  readonly #flights = new SingleFlight<V | undefined>({ guardReentry: true })
  readonly #loads = new SingleFlight<V | undefined>({ guardReentry: true })
  readonly #loader: Loader<V> | undefined
  readonly #prefetch: PrefetchLink<V> | undefined
  readonly #watchers: Watchers<V>
  readonly #scheduler: SchedulerLike
  readonly #defaultTtl: number
  readonly #maxKeyLength: number
  readonly #valueRules: ValueRules
  readonly #freezes: boolean
  /** Replays the close to late subscribers too: stats$ subscribed after close completes at once. */
  readonly #closing = new ReplaySubject<void>(1)
  readonly #bulk: BulkCalls
  #sweep: Subscription | undefined
  #closed: Promise<void> | undefined
  /** Why every operation now fails: closed, or the disk tier could not open. */
  #unusable: CacheError | undefined

  constructor(options?: CacheOptions<V>) {
    const given = resolveOptions(options)
    // Data is frozen when stored and when decoded: a value reads, and refuses changes, the same from any tier.
    this.#freezes = given.values === 'data'
    const resolved = this.#freezes ? { ...given, codec: freezingCodec(given.codec) } : given
    this.#loader = resolved.loader
    this.#scheduler = resolved.scheduler
    this.#defaultTtl = resolved.ttl
    this.#maxKeyLength = resolved.maxKeyLength
    this.#bulk = new BulkCalls(this.#scheduler, this.#closing, () => this.#unusable as CacheError)
    this.#valueRules = {
      // One rule for every configuration, unless the application asked for live objects in hot alone.
      codec: resolved.values === 'any' ? undefined : resolved.codec,
      maxValueBytes: resolved.maxValueBytes,
      heapBounded: resolved.hot.maxBytes !== Infinity,
    }
    const stack = (this.#stack = new TierStack<V>(resolved))
    this.#watchers = stack.notifier.watchers = new Watchers<V>(
      {
        current: (key) => stack.peek(key),
        expiryOf: (key) => stack.expiryOf(key),
        due: (key) => stack.expireIfDue(key),
        // A key only the disk holds is read as `peek` reads memory: a watch is not a get.
        load: stack.lowerTiers.length === 0 ? undefined : (key) => stack.peekBelow(key) as Promise<V | undefined>,
      },
      this.#scheduler,
    )
    this.events$ = stack.notifier.bus.events$
    this.stats$ = sampleStats(() => this.stats(), resolved.statsInterval, this.#scheduler).pipe(
      takeUntil(this.#closing),
      share(),
    )
    if (resolved.prefetch !== false && resolved.loader !== undefined) {
      const isCached = (key: string): boolean => this.#loads.has(key) || stack.holds(key)
      this.#prefetch = new PrefetchLink<V>(resolved.prefetch, resolved.loader, isCached, stack.notifier)
    }
    this.ready = stack.ready.then(
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
      return this.#set(key, value, ttl, tags)
    })
  }

  delete(key: string): Promise<boolean> {
    return this.#run(() => this.#delete(checkKey(key, this.#maxKeyLength)))
  }

  getOrSet<R extends V | undefined = V>(key: string, factory: Factory<R>, options?: EntryOptions): Promise<V | R> {
    return this.#run(() => {
      checkWrittenKey(key, this.#maxKeyLength)
      if (typeof factory !== 'function') throw new CacheError('E_INVALID_OPTIONS', `argument 'factory' must be a function`)
      const { ttl, tags } = checkEntryOptions(options)
      const load = (cached: V | undefined): V | Promise<V | undefined> =>
        cached !== undefined
          ? cached
          : this.#flights.run(
              key,
              (context) => callSource(key, 'factory', () => factory(context), this.#stack.notifier, this.#scheduler),
              (value) => {
                if (value === undefined) return
                this.#checkValue(key, value)
                this.#set(key, value, ttl, tags)
              },
            )
      const cached = this.#stack.get(key)
      // Callers that join a flight get the value of the factory that started it, which may be undefined.
      return (cached instanceof Promise ? cached.then(load) : load(cached)) as V | R | Promise<V | R>
    })
  }

  getMany(keys: string[]): Promise<(V | undefined)[]> {
    return this.#run(() => {
      const checked = this.#keys(keys)
      const reads = new Array<Promise<V | undefined>>(checked.length)
      const visit = (from: number, to: number): void => {
        for (let i = from; i < to; i++) reads[i] = this.#read(checked[i])
      }
      return this.#bulk.run(checked.length, visit, reads, () => Promise.all(reads))
    })
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
      // A value that went straight to a full lower tier is stored, and waits for room there.
      const waits: Promise<void>[] = []
      for (let i = 0; i < entries.length; i++) {
        const wait = this.#set(entries[i].key, entries[i].value, checked[i].ttl, checked[i].tags)
        if (wait !== undefined) waits.push(wait)
      }
      if (waits.length > 0) await Promise.all(waits)
    })
  }

  deleteMany(keys: string[]): Promise<number> {
    return this.#run(() => {
      const checked = this.#keys(keys)
      const deleted = new Array<boolean | Promise<boolean>>(checked.length)
      const visit = (from: number, to: number): void => {
        for (let i = from; i < to; i++) deleted[i] = this.#delete(checked[i])
      }
      return this.#bulk.run(checked.length, visit, deleted, () => countTrue(deleted))
    })
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#run(() => {
      if (typeof tag !== 'string' || tag.length === 0) {
        throw new CacheError('E_INVALID_OPTIONS', `argument 'tag' must be a non-empty string`)
      }
      const keys = this.#stack.keysOfTag(tag)
      return keys instanceof Promise ? keys.then((found) => this.#deleteTagged(found, tag)) : this.#deleteTagged(keys, tag)
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
    this.#flights.close()
    this.#loads.close()
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
    const load = (context: { signal: AbortSignal }): Promise<V | undefined> =>
      callSource(key, 'loader', () => loader(key, context), this.#stack.notifier, this.#scheduler)
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

  #set(key: string, value: V, ttl: number, tags: string[] | undefined): undefined | Promise<void> {
    this.#flights.supersede(key)
    this.#loads.supersede(key)
    this.#prefetch?.written(key)
    const wait = this.#stack.set(key, this.#freezes ? deepFreeze(value) : value, ttl === 0 ? this.#defaultTtl : ttl, tags)
    if (this.#sweep === undefined && this.#stack.sweep.pending) this.#startSweep()
    return wait
  }

  /** Whether a live entry was there; waits for the disk copy's tombstone when there is one. */
  #delete(key: string): boolean | Promise<boolean> {
    this.#flights.supersede(key)
    this.#loads.supersede(key)
    this.#prefetch?.written(key)
    const { existed, tombstone } = this.#stack.delete(key)
    return tombstone === undefined ? existed : tombstone.then((found) => existed || found)
  }

  /** Deletes the keys that still carry `tag` when their slice comes: one written since without it stays. */
  #deleteTagged(keys: readonly string[], tag: string): Promise<number> {
    const tags = this.#stack.notifier.tags
    const deleted: (boolean | Promise<boolean>)[] = []
    const visit = (from: number, to: number): void => {
      for (let i = from; i < to; i++) if (tags.tagsOf(keys[i])?.includes(tag) === true) deleted.push(this.#delete(keys[i]))
    }
    return this.#bulk.run(keys.length, visit, deleted, () => countTrue(deleted))
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

