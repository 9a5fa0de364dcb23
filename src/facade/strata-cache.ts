import { type Observable, ReplaySubject, share, takeUntil } from 'rxjs'
import { sampleStats } from '../../streams/sample-stats.js'
import { BulkCalls } from './bulk-calls.js'
import type { Cache, CacheEntry, EntryOptions, GetOrSetOptions } from '../cache.js'
import { deepFreeze, freezingCodec } from '../codec/deep-freeze.js'
import { asCacheError, CacheError } from '../errors.js'
import type { CacheEvent } from '../observe/events.js'
import { type CacheOptions, resolveOptions } from '../options/options.js'
import { type ResolvedServeOptions, resolveServeOptions, SERVE_OPTION_NAMES } from '../options/serve-options.js'
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
import type { WriteBack } from '../writer/write-back.js'
import type { CacheWriter } from '../writer/writer-parts.js'
import { createWriter } from '../writer/writer.js'
import { CircuitBreaker } from '../guards/circuit-breaker.js'
import { Distributed } from './distributed.js'

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

const GET_OR_SET_OPTIONS: readonly string[] = ['ttl', 'tags', ...SERVE_OPTION_NAMES]

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
  /** The writer option's front: set and delete reach the source through it. */
  readonly #writer: CacheWriter<V> | undefined
  readonly #closeTimeout: number
  /** Set while a write-back journal is replayed: operations wait for it, so that no read misses a replayed op. */
  #replaying: Promise<void> | undefined
  readonly #serve: ResolvedServeOptions
  /** With a remote tier or a bus: the writes other instances see, and whether local copies may be served. */
  readonly #distributed: Distributed<V> | undefined
  /** A write as it reaches the tiers: through the remote tier or the bus when there is one. */
  readonly #apply: {
    set: (key: string, value: V, ttl: number, tags: readonly string[] | undefined) => undefined | Promise<void>
    delete: (key: string) => boolean | Promise<boolean>
  }
  #closed: Promise<void> | undefined
  /** Why every operation now fails: closed. (A tier that fails degrades: memory serves without it.) */
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
    const distributed = (this.#distributed = Distributed.wanted(resolved.distributed)
      ? new Distributed<V>({ options: resolved.distributed, codec: resolved.codec, scheduler, defaultTtl: resolved.ttl })
      : undefined)
    const stack = (this.#stack = new TierStack<V>(resolved, this.#watchers, distributed?.tierParts))
    const { notifier } = stack
    this.events$ = notifier.bus.events$
    this.stats$ = sampleStats(() => this.stats(), resolved.statsInterval, scheduler).pipe(takeUntil(this.#closing), share())
    // A load ahead is wasted on a key the cache holds or loads already, and on one a write would refuse.
    const needless = (key: string): boolean => !isWellFormed(key) || readThrough.isLoading(key) || stack.holds(key) || writer?.isDirty(key) === true
    const readThrough: ReadThrough<V> = (this.#readThrough = new ReadThrough<V>({
      tiers: {
        get: (key) => stack.get(key),
        getMany: (keys) => stack.getMany(keys),
        set: (key, value, ttl, tags, kept) => stack.set(key, freezes ? deepFreeze(value) : value, ttl === 0 ? resolved.ttl : ttl, tags, kept),
        stale: (key) => stack.findStale(key),
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
      serve: resolved.serve,
      dirty:
        resolved.writer?.mode === 'back'
          ? { find: (key: string) => (writer as WriteBack<V>).find(key), settled: (key: string) => (writer as WriteBack<V>).settled(key) }
          : undefined,
      shared: distributed?.loads((key, value) => this.#checkValue(key, value)),
    }))
    if (distributed !== undefined) {
      const watchers = this.#watchers
      distributed.connect(
        {
          set: (key, value, ttl, tags) => readThrough.set(key, value, ttl, tags),
          delete: (key) => readThrough.delete(key),
          clear: () => readThrough.clear(),
          keysOfTag: (tag) => stack.keysOfTag(tag),
          drop: (key) => {
            Promise.resolve(readThrough.delete(key)).catch(() => undefined)
            // A watched key shows the other instance's new value, not only its absence.
            if (watchers.watching(key)) {
              readThrough.read(key).then(
                (value) => value !== undefined && watchers.changed(key, value, stack.expiryOf(key)),
                () => undefined,
              )
            }
          },
          dropAll: () => {
            readThrough.clear()?.catch(() => undefined)
          },
          count: () => {
            const tiers = stack.stats()
            return tiers.hot.entries + tiers.warm.entries + tiers.cold.entries
          },
        },
        notifier as never,
        resolved.cold === false ? undefined : resolved.cold.dir,
      )
    }
    const shared = distributed?.writes
    this.#apply =
      shared === undefined
        ? { set: (key, value, ttl, tags) => readThrough.set(key, value, ttl, tags), delete: (key) => readThrough.delete(key) }
        : { set: (key, value, ttl, tags) => shared.set(key, value, ttl, tags), delete: (key) => shared.delete(key) }
    const apply = this.#apply
    const writer: CacheWriter<V> | undefined = (this.#writer =
      resolved.writer === undefined
        ? undefined
        : createWriter<V>({
            options: resolved.writer,
            cache: apply,
            codec: resolved.codec,
            notifier,
            scheduler,
            defaultTtl: resolved.ttl,
            tiersReady: stack.ready,
            breaker: resolved.serve.breaker === false ? undefined : new CircuitBreaker(resolved.serve.breaker, scheduler),
          }))
    this.#closeTimeout = resolved.closeTimeout
    this.#serve = resolved.serve
    if (resolved.writer?.journal !== undefined && resolved.writer.journal !== false) {
      const replayed = (this.#replaying = writer!.opened.then(
        () => undefined,
        () => undefined,
      ))
      replayed.then(() => {
        if (this.#replaying === replayed) this.#replaying = undefined
      })
    }
    const opened = distributed === undefined ? stack.ready : Promise.all([stack.ready, distributed.ready])
    this.ready = (writer === undefined ? opened : opened.then(() => writer.opened)).then(
      () => undefined,
      (error: unknown) => {
        throw asCacheError(error, 'E_IO', String(error))
      },
    )
    this.ready.catch(() => undefined) // a `degraded` event tells it too: an unwatched `ready` must not crash the process
  }

  get(key: string): Promise<V | undefined> {
    if (this.#replaying !== undefined) return this.#replaying.then(() => this.get(key))
    if (this.#unusable !== undefined) return Promise.reject(this.#unusable)
    if (!isValidKey(key, this.#maxKeyLength)) return Promise.reject(invalidKey(key, this.#maxKeyLength))
    if (this.#distributed !== undefined && !this.#distributed.trusted) return this.#readAround(key)
    return this.#readThrough.read(key)
  }

  peek(key: string): V | undefined {
    if (this.#unusable !== undefined) throw this.#unusable
    return this.#stack.peek(checkKey(key, this.#maxKeyLength))
  }

  has(key: string): Promise<boolean> {
    return this.#run(() => {
      checkKey(key, this.#maxKeyLength)
      if (this.#distributed !== undefined && !this.#distributed.trusted) return this.#readAround(key).then((value) => value !== undefined)
      return this.#stack.has(key)
    })
  }

  set(key: string, value: V, options?: EntryOptions): Promise<void> {
    return this.#run(() => {
      checkWrittenKey(key, this.#maxKeyLength)
      this.#checkValue(key, value)
      const { ttl, tags } = checkEntryOptions(options)
      return this.#writer !== undefined ? this.#writer.set(key, value, ttl, tags) : this.#apply.set(key, value, ttl, tags)
    })
  }

  delete(key: string): Promise<boolean> {
    return this.#run(() => {
      checkKey(key, this.#maxKeyLength)
      return this.#writer !== undefined ? this.#writer.delete(key) : this.#apply.delete(key)
    })
  }

  getOrSet<R extends V | undefined = V>(key: string, factory: Factory<R>, options?: GetOrSetOptions): Promise<V | R> {
    return this.#run(() => {
      checkWrittenKey(key, this.#maxKeyLength)
      checkFactory(factory)
      const { ttl, tags } = checkEntryOptions(options, GET_OR_SET_OPTIONS)
      const serve = options === undefined ? this.#serve : resolveServeOptions(options, this.#serve)
      if (this.#distributed !== undefined && !this.#distributed.trusted) {
        return this.#distributed.readAround(key).then((found) => found ?? this.#readThrough.getOrSet(key, factory, ttl, tags, serve, true))
      }
      return this.#readThrough.getOrSet(key, factory, ttl, tags, serve)
    })
  }

  getMany(keys: string[]): Promise<(V | undefined)[]> {
    return this.#run(() => {
      const checked = checkKeys(keys, this.#maxKeyLength)
      if (this.#distributed !== undefined && !this.#distributed.trusted) return Promise.all(checked.map((key) => this.#readAround(key)))
      return this.#bulk.all(checked, (run) => this.#readThrough.readMany(run))
    })
  }

  setMany(entries: CacheEntry<V>[]): Promise<void> {
    return this.#run(async () => {
      const checked = checkEntries<V>(entries, this.#maxKeyLength, (key, value) => this.#checkValue(key, value))
      if (this.#writer !== undefined) {
        return this.#writer.setMany(entries.map((entry, i) => ({ key: entry.key, value: entry.value, ttl: checked[i].ttl, tags: checked[i].tags })))
      }
      // A value that went straight to a full lower tier is stored, and waits for room there.
      const waits: Promise<void>[] = []
      for (let i = 0; i < entries.length; i++) {
        const wait = this.#apply.set(entries[i].key, entries[i].value, checked[i].ttl, checked[i].tags)
        if (wait !== undefined) waits.push(wait)
      }
      if (waits.length > 0) await Promise.all(waits)
    })
  }

  deleteMany(keys: string[]): Promise<number> {
    return this.#run(() => {
      const checked = checkKeys(keys, this.#maxKeyLength)
      return this.#writer !== undefined ? this.#writer.deleteMany(checked) : this.#bulk.count(checked, (key) => this.#apply.delete(key))
    })
  }

  deleteByTag(tag: string): Promise<number> {
    return this.#run(() => {
      const shared = this.#distributed?.writes
      if (shared !== undefined) return shared.deleteByTag(checkTag(tag))
      const keys = this.#stack.keysOfTag(checkTag(tag))
      return keys instanceof Promise ? keys.then((found) => this.#deleteTagged(found, tag)) : this.#deleteTagged(keys, tag)
    })
  }

  clear(): Promise<void> {
    const clear = (): Promise<void> | undefined => (this.#distributed?.writes !== undefined ? this.#distributed.writes.clear() : this.#readThrough.clear())
    return this.#run(() => (this.#writer !== undefined ? this.#writer.flush().then(clear) : clear()))
  }

  flush(): Promise<void> {
    return this.#run(() => this.#writer?.flush())
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
    return snapshot(this.#stack.notifier.counters, this.#stack.stats())
  }

  /** Checkpoints into the cold tier (if any), then releases everything. Rejects if that checkpoint failed. */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed
    this.#unusable = new CacheError('E_CLOSED', 'the cache is closed')
    this.#readThrough.close()
    this.#closing.next()
    this.#closing.complete()
    this.#watchers.complete()
    const writing = this.#writer?.close(this.#closeTimeout)
    // The tiers close after the writer has applied the writes it had taken, whatever became of their flush.
    const tiers = (): Promise<void> => {
      const distributed = this.#distributed
      if (distributed === undefined) return this.#stack.close()
      // Nothing from the bus is applied once the tiers close: what was, the disk keeps, and the position says so.
      return distributed.stopApplying().then((position) =>
        this.#stack
          .close()
          .then(() => distributed.keepPosition(position))
          .finally(() => distributed.close()),
      )
    }
    this.#closed =
      writing === undefined
        ? tiers()
        : writing.then(tiers, (error: unknown) =>
            tiers().then(() => {
              throw error
            }),
          )
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

  /** A read while local copies may be stale (the bus is disconnected): the remote tier's value, else the loader's. */
  #readAround(key: string): Promise<V | undefined> {
    const distributed = this.#distributed as Distributed<V>
    return distributed.readAround(key).then((found) => found ?? this.#readThrough.readSource(key))
  }

  /** Runs an operation as a Promise: its result, or its error as a rejection. */
  #run<T>(operation: () => T | Promise<T>): Promise<T> {
    if (this.#replaying !== undefined) return this.#replaying.then(() => this.#run(operation))
    if (this.#unusable !== undefined) return Promise.reject(this.#unusable)
    try {
      return Promise.resolve(operation())
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
