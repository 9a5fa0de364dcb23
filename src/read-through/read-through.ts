import type { SchedulerLike } from 'rxjs'
import { CacheError, isCacheError } from '../errors.js'
import type { CircuitBreaker } from '../guards/circuit-breaker.js'
import type { Notifier } from '../observe/notifier.js'
import type { Loader } from '../options/options.js'
import { type ResolvedServeOptions, SERVE_AS_STORED } from '../options/serve-options.js'
import { type Factory, SingleFlight } from './single-flight.js'
import { SourceBreakers } from './source-breakers.js'
import { callSource, type Source } from './source-call.js'
import { timeoutError, withHardTimeout, withSoftTimeout } from './timeouts.js'

/** What read-through needs of the tiers: the stack's reads and writes, and where loads are told. */
export interface ReadThroughTiers<V> {
  get(key: string): V | undefined | Promise<V | undefined>
  /** `get` of each key, in order, with one read of the tiers below for all that memory misses. */
  getMany(keys: readonly string[]): (V | undefined)[] | Promise<(V | undefined)[]>
  /**
   * Stores a checked value; `ttl` 0 means the cache's default. A Promise when
   * the value went straight to a lower tier whose full inbox makes it wait.
   * `kept`: ms memory keeps it past its expiry as a stale value.
   */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined, kept: number): undefined | Promise<void>
  /** What memory holds for `key`, live or kept past its expiry, with its expiry; undefined for nothing. */
  stale(key: string): { value: V; expiresAt: number } | undefined
  delete(key: string): { existed: boolean; tombstone: Promise<boolean> | undefined }
  clear(): Promise<void> | undefined
  readonly notifier: Pick<Notifier<V>, 'loaded' | 'error' | 'prefetchHit'>
}

/** What a value from a loader or factory must pass to be stored: the rules a write meets. */
export interface Admission<V> {
  /** Why no value can be stored under `key`, or undefined when one can. */
  keyProblem(key: string): CacheError | undefined
  /** Throws the `CacheError` a write of `value` under `key` would reject with. */
  checkValue(key: string, value: V): void
}

/** Values loaded ahead of their reads (the prefetch link), as reads and writes meet them. */
export interface LoadsAhead<V> {
  /** The value loaded ahead for `key`, handed over; undefined when none waits. */
  take(key: string): V | undefined
  /** Settles when a load ahead of `key` under way now has ended; undefined when none runs. */
  pending(key: string): Promise<void> | undefined
  accessed(key: string): void
  written(key: string): void
  cleared(): void
  close(): void
}

/** Write-back's dirty ops, as reads that missed every tier meet them (see `WriteBack.find`). */
export interface DirtyReads<V> {
  /**
   * Undefined when `key` is clean; its dirty value (undefined for a delete);
   * or, past its time to live, a Promise of whether its write succeeded.
   */
  find(key: string): { value: V | undefined } | Promise<boolean> | undefined
  /** Settles once the key's dirty op has been written (true) or has failed every try (false). */
  settled(key: string): Promise<boolean>
}

/** Loads shared with other instances (see `SharedLoads`): a source call that may be answered by another instance's. */
export interface SharedSource<V> {
  load(
    key: string,
    call: (context: { signal: AbortSignal }) => Promise<V | undefined>,
    context: { signal: AbortSignal },
    ttl: number,
    tags: readonly string[] | undefined,
  ): Promise<V | undefined>
}

export interface ReadThroughParts<V> {
  tiers: ReadThroughTiers<V>
  admission: Admission<V>
  /** Called for a key every tier missed; none: a miss is a miss. */
  loader: Loader<V> | undefined
  /** Given only with a loader and prefetching on. */
  ahead?: LoadsAhead<V> | undefined
  scheduler: SchedulerLike
  /** The cache's stale-while-revalidate, grace, timeouts and breaker; none when absent. */
  serve?: ResolvedServeOptions
  /** Given with a write-back writer: a dirty key is read from it, never loaded (the source holds an older value). */
  dirty?: DirtyReads<V> | undefined
  /** Given with a remote tier: one instance loads a key at a time. */
  shared?: SharedSource<V> | undefined
}

/**
 * The tiers with the cache's sources in front of them: a read takes a value
 * loaded ahead, then the tiers, then the loader (one call per key at a time);
 * `getOrSet` runs its factory once per key at a time. A write, delete or
 * clear comes through here too, so that a load under way for the key is
 * superseded: its late result is returned to its callers but not stored.
 * Keys and values arrive validated.
 */
export class ReadThrough<V> {
  readonly #tiers: ReadThroughTiers<V>
  readonly #admission: Admission<V>
  readonly #loader: Loader<V> | undefined
  readonly #ahead: LoadsAhead<V> | undefined
  readonly #scheduler: SchedulerLike
  readonly #serve: ResolvedServeOptions
  readonly #breakers: SourceBreakers
  readonly #dirty: DirtyReads<V> | undefined
  readonly #shared: SharedSource<V> | undefined
  /** `getOrSet`'s factories. */
  readonly #flights = new SingleFlight<V | undefined>({ guardReentry: true })
  /** The loader's calls for reads. */
  readonly #loads = new SingleFlight<V | undefined>({ guardReentry: true })

  constructor(parts: ReadThroughParts<V>) {
    this.#tiers = parts.tiers
    this.#admission = parts.admission
    this.#loader = parts.loader
    this.#ahead = parts.ahead
    this.#scheduler = parts.scheduler
    this.#serve = parts.serve ?? SERVE_AS_STORED
    this.#breakers = new SourceBreakers(parts.scheduler)
    this.#dirty = parts.dirty
    this.#shared = parts.shared
  }

  /** Whether the loader runs for `key` for a read now. */
  isLoading(key: string): boolean {
    return this.#loads.has(key)
  }

  /** A value loaded ahead (waiting for one under way), then the tiers, then the loader. */
  read(key: string): Promise<V | undefined> {
    const ahead = this.#ahead
    if (ahead === undefined) return this.#readTiers(key)
    let taken: V | undefined
    try {
      taken = this.#takeAhead(ahead, key)
    } catch (error) {
      ahead.accessed(key)
      return Promise.reject(error)
    }
    ahead.accessed(key)
    if (taken !== undefined) return Promise.resolve(taken)
    const pending = ahead.pending(key)
    if (pending === undefined) return this.#readTiers(key)
    return pending.then(() => this.#takeAhead(ahead, key) ?? this.#readTiers(key))
  }

  /** `read` of each key, in order; without loads ahead, the tiers are read for all the keys at once. */
  readMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    if (this.#ahead !== undefined) return Promise.all(keys.map((key) => this.read(key)))
    const found = this.#tiers.getMany(keys)
    if (this.#loader === undefined && this.#dirty === undefined) return Promise.resolve(found)
    return found instanceof Promise ? found.then((values) => this.#loadMissing(keys, values)) : this.#loadMissing(keys, found)
  }

  /**
   * The cached value, or the factory's, stored with `ttl` and `tags`; callers that join a flight get its value, even
   * undefined. `serve`: the call's options laid over the cache's.
   */
  getOrSet<R extends V | undefined>(
    key: string,
    factory: Factory<R>,
    ttl: number,
    tags: string[] | undefined,
    serve: ResolvedServeOptions = this.#serve,
    skipTiers = false,
  ): V | R | Promise<V | R> {
    const run = (): Promise<V | undefined> =>
      this.#serveMiss(
        key,
        'factory',
        this.#flights,
        (context) => factory(context),
        (value) => this.#store(key, value, ttl, tags, serve.kept),
        serve,
        ttl,
        tags,
      )
    const load = (cached: V | undefined): V | Promise<V | undefined> => {
      if (cached !== undefined) return cached
      const dirty = this.#dirty?.find(key)
      if (dirty === undefined) return run()
      // Past its time to live, or deleted: the factory runs once the source has the key's last op, or it would read the older value.
      if (dirty instanceof Promise) return dirty.then(run)
      if (dirty.value === undefined) return (this.#dirty as DirtyReads<V>).settled(key).then(run)
      return dirty.value
    }
    // Local copies that may be stale are skipped (see `readSource`).
    const cached = skipTiers ? undefined : this.#tiers.get(key)
    return (cached instanceof Promise ? cached.then(load) : load(cached)) as V | R | Promise<V | R>
  }

  /** The key's dirty value or the loader's, not reading the tiers: for a read while local copies may be stale. */
  readSource(key: string): Promise<V | undefined> {
    return Promise.resolve(this.#missed(key))
  }

  /** Stores a checked value; loads of the key under way are out of date. Waits as `ReadThroughTiers.set` says. */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): undefined | Promise<void> {
    return this.#write(key, value, ttl, tags, this.#serve.kept)
  }

  /** Whether a live entry was there; waits for the disk copy's tombstone when there is one. */
  delete(key: string): boolean | Promise<boolean> {
    this.#superseded(key)
    const { existed, tombstone } = this.#tiers.delete(key)
    return tombstone === undefined ? existed : tombstone.then((found) => existed || found)
  }

  /** Empties the tiers (memory at once, the disk by the returned Promise); every load under way is out of date. */
  clear(): Promise<void> | undefined {
    this.#flights.supersedeAll()
    this.#loads.supersedeAll()
    this.#ahead?.cleared()
    return this.#tiers.clear()
  }

  /** Aborts every factory and loader call (their callers reject with `E_CLOSED`) and starts none from now on. */
  close(): void {
    this.#flights.close()
    this.#loads.close()
    this.#ahead?.close()
  }

  /** The value loaded ahead for `key`, moved into hot; undefined when none waits. Throws as a loaded value is refused. */
  #takeAhead(ahead: LoadsAhead<V>, key: string): V | undefined {
    const taken = ahead.take(key)
    if (taken === undefined) return undefined
    this.#admission.checkValue(key, taken)
    this.#write(key, taken, 0, undefined, this.#serve.kept)
    this.#tiers.notifier.prefetchHit(key)
    return taken
  }

  #readTiers(key: string): Promise<V | undefined> {
    const found = this.#tiers.get(key)
    if (this.#loader === undefined && this.#dirty === undefined) return Promise.resolve(found)
    if (found instanceof Promise) return found.then((value) => (value !== undefined ? value : this.#missed(key)))
    return found !== undefined ? Promise.resolve(found) : Promise.resolve(this.#missed(key))
  }

  /** A key every tier missed: its dirty value if it has one (never the loader's older one), else the loader's. */
  #missed(key: string): V | undefined | Promise<V | undefined> {
    const dirty = this.#dirty?.find(key)
    if (dirty === undefined) return this.#loader === undefined ? undefined : this.#load(key)
    if (dirty instanceof Promise) return dirty.then((written) => (written && this.#loader !== undefined ? this.#load(key) : undefined))
    return dirty.value
  }

  /** The values found, with the dirty or the loader's values for the keys every tier missed. */
  #loadMissing(keys: readonly string[], values: (V | undefined)[]): Promise<(V | undefined)[]> {
    let loads: Promise<unknown>[] | undefined
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== undefined) continue
      const at = i
      ;(loads ??= []).push(Promise.resolve(this.#missed(keys[i])).then((value) => (values[at] = value)))
    }
    return loads === undefined ? Promise.resolve(values) : Promise.all(loads).then(() => values)
  }

  /** Read-through for a key every tier missed: one loader call per key at a time. */
  #load(key: string): Promise<V | undefined> {
    // What the loader returns is cached under the key: it must be a key a write would take.
    const refused = this.#admission.keyProblem(key)
    if (refused !== undefined) return Promise.reject(refused)
    const loader = this.#loader as Loader<V>
    const serve = this.#serve
    const store = (value: V | undefined): void => this.#store(key, value, 0, undefined, serve.kept)
    return this.#serveMiss(key, 'loader', this.#loads, (context) => loader(key, context), store, serve, 0, undefined)
  }

  /**
   * A miss, served as `serve` says: a value memory keeps past its expiry
   * within `staleWhileRevalidate` at once (the load runs in the background);
   * otherwise the load (joined if one runs), and a stale value within
   * `grace` when it fails, times out (hard) or its breaker is open, or when
   * it is still running at `timeout.soft`.
   */
  #serveMiss(
    key: string,
    source: Source,
    flights: SingleFlight<V | undefined>,
    call: Factory<V | undefined>,
    store: (value: V | undefined) => void,
    serve: ResolvedServeOptions,
    ttl: number,
    tags: readonly string[] | undefined,
  ): Promise<V | undefined> {
    const settings = serve.breaker
    const breaker = settings === false ? undefined : source === 'loader' ? this.#breakers.loader(settings) : this.#breakers.factory(settings)
    const called = (context: { signal: AbortSignal }): Promise<V | undefined> => this.#call(key, source, call, context, serve, breaker)
    const shared = this.#shared
    const load = (): Promise<V | undefined> =>
      flights.run(key, shared === undefined ? called : (context) => shared.load(key, called, context, ttl, tags), store)
    const stale = serve.kept === 0 ? undefined : this.#tiers.stale(key)
    if (stale === undefined) return load()
    const age = this.#scheduler.now() - stale.expiresAt
    // Written while the tiers were asked (a read below memory): the current value, no load needed.
    if (stale.expiresAt === 0 || age < 0) return Promise.resolve(stale.value)
    if (age < serve.staleWhileRevalidate) {
      // Its failure was told (an error event) by the load itself; the stale value stands until the next read.
      load().catch(() => undefined)
      return Promise.resolve(stale.value)
    }
    if (!(age < serve.grace)) return load()
    const rescued = load().catch((error: unknown) => {
      if (isCacheError(error, 'E_LOADER') || isCacheError(error, 'E_TIMEOUT')) return stale.value
      throw error
    })
    return serve.soft === 0 ? rescued : withSoftTimeout(rescued, serve.soft, stale.value, this.#scheduler)
  }

  /** One call of a source, through its breaker and within `timeout.hard` when they are set. */
  #call(
    key: string,
    source: Source,
    call: Factory<V | undefined>,
    context: { signal: AbortSignal },
    serve: ResolvedServeOptions,
    breaker: CircuitBreaker | undefined,
  ): Promise<V | undefined> {
    const notifier = this.#tiers.notifier
    const counted: Factory<V | undefined> = (given) => callSource(key, source, () => call(given), notifier, this.#scheduler)
    if (breaker === undefined && serve.hard === 0) return counted(context) as Promise<V | undefined>
    if (breaker !== undefined && !breaker.allow()) {
      const cause = breaker.openError()
      const refused = new CacheError('E_LOADER', `the ${source} for '${key}' was not called: ${cause.message}`, { cause })
      // Told as every E_LOADER is, so that a dashboard on events$ sees the source is cut off.
      notifier.error(refused, key)
      return Promise.reject(refused)
    }
    const timed =
      serve.hard === 0
        ? (counted(context) as Promise<V | undefined>)
        : withHardTimeout(counted, serve.hard, this.#scheduler, () => {
            const error = timeoutError(source, key, serve.hard)
            notifier.error(error, key)
            return error
          })(context)
    if (breaker === undefined) return timed
    return timed.then(
      (value) => (breaker.succeeded(), value),
      (error: unknown) => {
        breaker.failed()
        throw error
      },
    )
  }

  /** A write of `key` wins over the loads of it under way: their late results will not be stored. */
  #superseded(key: string): void {
    this.#flights.supersede(key)
    this.#loads.supersede(key)
    this.#ahead?.written(key)
  }

  /** Stores what a source returned, unless it returned nothing; throws as a write of it would. */
  #store(key: string, value: V | undefined, ttl: number, tags: readonly string[] | undefined, kept: number): void {
    if (value === undefined) return
    this.#admission.checkValue(key, value)
    this.#write(key, value, ttl, tags, kept)
  }

  #write(key: string, value: V, ttl: number, tags: readonly string[] | undefined, kept: number): undefined | Promise<void> {
    this.#superseded(key)
    return this.#tiers.set(key, value, ttl, tags, kept)
  }
}
