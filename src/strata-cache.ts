import { type Observable, type SchedulerLike, Subject, type Subscription, share, takeUntil } from 'rxjs'
import { expire } from '../streams/expire.js'
import { sampleStats } from '../streams/sample-stats.js'
import type { Cache, CacheEntry } from './cache.js'
import type { Codec } from './codec/codec.js'
import { CacheError } from './errors.js'
import type { CacheEvent } from './events.js'
import { type CacheOptions, resolveOptions } from './options.js'
import { type Factory, SingleFlight } from './single-flight.js'
import { type CacheStats, snapshot } from './stats.js'
import { TierStack } from './tier-stack.js'
import { type EntryOptions, checkEntryOptions, checkKey, checkValue, invalidKey, isValidKey } from './validate.js'
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
export function createCache<V = unknown>(options?: CacheOptions): Cache<V> {
  return new StrataCache<V>(options)
}

class StrataCache<V> implements Cache<V> {
  readonly events$: Observable<CacheEvent>
  readonly stats$: Observable<CacheStats>
  readonly #stack: TierStack<V>
  readonly #flights = new SingleFlight<V>()
  readonly #watchers: Watchers<V>
  readonly #scheduler: SchedulerLike
  readonly #defaultTtl: number
  readonly #maxKeyLength: number
  /** The codec that must accept every value, or undefined while only live objects are held. */
  readonly #byteCodec: Codec | undefined
  readonly #closing = new Subject<void>()
  #sweep: Subscription | undefined
  #closed: Promise<void> | undefined

  constructor(options?: CacheOptions) {
    const resolved = resolveOptions(options)
    this.#scheduler = resolved.scheduler
    this.#defaultTtl = resolved.ttl
    this.#maxKeyLength = resolved.maxKeyLength
    this.#byteCodec = resolved.warm === false ? undefined : resolved.codec
    const stack = (this.#stack = new TierStack<V>(resolved))
    this.#watchers = stack.watchers = new Watchers<V>(
      {
        current: (key) => stack.peek(key),
        expiryOf: (key) => stack.expiryOf(key),
        due: (key) => stack.expireIfDue(key),
      },
      this.#scheduler,
    )
    this.events$ = stack.bus.events$
    this.stats$ = sampleStats(() => this.stats(), resolved.statsInterval, this.#scheduler).pipe(
      takeUntil(this.#closing),
      share(),
    )
  }

  get(key: string): Promise<V | undefined> {
    if (this.#closed !== undefined) return closedError()
    if (!isValidKey(key, this.#maxKeyLength)) return Promise.reject(invalidKey(key, this.#maxKeyLength))
    return Promise.resolve(this.#stack.get(key))
  }

  peek(key: string): V | undefined {
    if (this.#closed !== undefined) throw closed()
    return this.#stack.peek(checkKey(key, this.#maxKeyLength))
  }

  has(key: string): Promise<boolean> {
    return this.#run(() => this.#stack.has(checkKey(key, this.#maxKeyLength)))
  }

  set(key: string, value: V, options?: EntryOptions): Promise<void> {
    return this.#run(() => {
      checkKey(key, this.#maxKeyLength)
      checkValue(value, this.#byteCodec)
      const { ttl, tags } = checkEntryOptions(options)
      this.#set(key, value, ttl, tags)
    })
  }

  delete(key: string): Promise<boolean> {
    return this.#run(() => this.#delete(checkKey(key, this.#maxKeyLength)))
  }

  getOrSet(key: string, factory: Factory<V>, options?: EntryOptions): Promise<V> {
    if (this.#closed !== undefined) return closedError()
    try {
      checkKey(key, this.#maxKeyLength)
      if (typeof factory !== 'function') throw new CacheError('E_INVALID_OPTIONS', `argument 'factory' must be a function`)
      const { ttl, tags } = checkEntryOptions(options)
      const cached = this.#stack.get(key)
      if (cached !== undefined) return Promise.resolve(cached)
      return this.#flights.run(key, factory, (value) => {
        checkValue(value, this.#byteCodec)
        this.#set(key, value, ttl, tags)
      })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  getMany(keys: string[]): Promise<(V | undefined)[]> {
    return this.#run(() => this.#keys(keys).map((key) => this.#stack.get(key)))
  }

  setMany(entries: CacheEntry<V>[]): Promise<void> {
    return this.#run(() => {
      if (!Array.isArray(entries)) throw new CacheError('E_INVALID_OPTIONS', `argument 'entries' must be an array`)
      const checked = entries.map((entry) => {
        if (typeof entry !== 'object' || entry === null) {
          throw new CacheError('E_INVALID_OPTIONS', `every entry must be an object with key and value`)
        }
        checkKey(entry.key, this.#maxKeyLength)
        checkValue(entry.value, this.#byteCodec)
        return checkEntryOptions(entry)
      })
      for (let i = 0; i < entries.length; i++) {
        this.#set(entries[i].key, entries[i].value, checked[i].ttl, checked[i].tags)
      }
    })
  }

  deleteMany(keys: string[]): Promise<number> {
    return this.#run(() => this.#keys(keys).reduce((deleted, key) => deleted + (this.#delete(key) ? 1 : 0), 0))
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#run(() => {
      if (typeof tag !== 'string' || tag.length === 0) {
        throw new CacheError('E_INVALID_OPTIONS', `argument 'tag' must be a non-empty string`)
      }
      let deleted = 0
      for (const key of this.#stack.tags.keysOf(tag)) if (this.#delete(key)) deleted++
      return deleted
    })
  }

  clear(): Promise<void> {
    return this.#run(() => {
      this.#flights.supersedeAll()
      this.#stack.clear()
    })
  }

  watch(key: string): Observable<V | undefined> {
    if (this.#closed !== undefined) throw closed()
    return this.#watchers.watch(checkKey(key, this.#maxKeyLength))
  }

  stats(): CacheStats {
    const { hot, warm, counters } = this.#stack
    return snapshot(
      counters,
      { entries: hot.entries, bytes: hot.bytes, hits: hot.hits },
      warm === undefined ? { entries: 0, bytes: 0, hits: 0 } : { entries: warm.entries, bytes: warm.bytes, hits: warm.hits },
    )
  }

  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#closed = Promise.resolve()
    this.#flights.abortAll()
    this.#sweep?.unsubscribe()
    this.#closing.next()
    this.#closing.complete()
    this.#watchers.complete()
    this.#stack.close()
    return this.#closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #set(key: string, value: V, ttl: number, tags: string[] | undefined): void {
    this.#flights.supersede(key)
    this.#stack.set(key, value, ttl === 0 ? this.#defaultTtl : ttl, tags)
    if (this.#sweep === undefined && this.#stack.expiring) this.#startSweep()
  }

  #delete(key: string): boolean {
    this.#flights.supersede(key)
    return this.#stack.delete(key)
  }

  #keys(keys: string[]): string[] {
    if (!Array.isArray(keys)) throw new CacheError('E_INVALID_OPTIONS', `argument 'keys' must be an array of keys`)
    for (const key of keys) checkKey(key, this.#maxKeyLength)
    return keys
  }

  /** Runs a synchronous operation as a Promise: its result, or its error as a rejection. */
  #run<T>(operation: () => T): Promise<T> {
    if (this.#closed !== undefined) return closedError()
    try {
      return Promise.resolve(operation())
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #startSweep(): void {
    const stack = this.#stack
    this.#sweep = expire(
      { period: EXPIRY_SWEEP_PERIOD, pending: () => stack.expiring, sweepSlice: () => stack.sweepSlice() },
      this.#scheduler,
    ).subscribe({ complete: () => (this.#sweep = undefined) })
  }
}

const closed = (): CacheError => new CacheError('E_CLOSED', 'the cache is closed')
const closedError = <T>(): Promise<T> => Promise.reject(closed())
