import type { SchedulerLike } from 'rxjs'
import type { CacheError } from '../errors.js'
import type { Notifier } from '../observe/notifier.js'
import type { Loader } from '../options/options.js'
import { type Factory, SingleFlight } from './single-flight.js'
import { callSource } from './source-call.js'

/** What read-through needs of the tiers: the stack's reads and writes, and where loads are told. */
export interface ReadThroughTiers<V> {
  get(key: string): V | undefined | Promise<V | undefined>
  /** `get` of each key, in order, with one read of the tiers below for all that memory misses. */
  getMany(keys: readonly string[]): (V | undefined)[] | Promise<(V | undefined)[]>
  /**
   * Stores a checked value; `ttl` 0 means the cache's default. A Promise when
   * the value went straight to a lower tier whose full inbox makes it wait.
   */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): undefined | Promise<void>
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

export interface ReadThroughParts<V> {
  tiers: ReadThroughTiers<V>
  admission: Admission<V>
  /** Called for a key every tier missed; none: a miss is a miss. */
  loader: Loader<V> | undefined
  /** Given only with a loader and prefetching on. */
  ahead?: LoadsAhead<V> | undefined
  scheduler: SchedulerLike
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
    if (this.#loader === undefined) return Promise.resolve(found)
    return found instanceof Promise ? found.then((values) => this.#loadMissing(keys, values)) : this.#loadMissing(keys, found)
  }

  /** The cached value, or the factory's, stored with `ttl` and `tags`; callers that join a flight get its value, even undefined. */
  getOrSet<R extends V | undefined>(key: string, factory: Factory<R>, ttl: number, tags: string[] | undefined): V | R | Promise<V | R> {
    const load = (cached: V | undefined): V | Promise<V | undefined> =>
      cached !== undefined
        ? cached
        : this.#flights.run(
            key,
            (context) => callSource(key, 'factory', () => factory(context), this.#tiers.notifier, this.#scheduler),
            (value) => this.#store(key, value, ttl, tags),
          )
    const cached = this.#tiers.get(key)
    return (cached instanceof Promise ? cached.then(load) : load(cached)) as V | R | Promise<V | R>
  }

  /** Stores a checked value; loads of the key under way are out of date. Waits as `ReadThroughTiers.set` says. */
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): undefined | Promise<void> {
    this.#superseded(key)
    return this.#tiers.set(key, value, ttl, tags)
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
    this.set(key, taken, 0, undefined)
    this.#tiers.notifier.prefetchHit(key)
    return taken
  }

  #readTiers(key: string): Promise<V | undefined> {
    const found = this.#tiers.get(key)
    if (this.#loader === undefined) return Promise.resolve(found)
    if (found instanceof Promise) return found.then((value) => (value !== undefined ? value : this.#load(key)))
    return found !== undefined ? Promise.resolve(found) : this.#load(key)
  }

  /** The values found, with the loader's for the keys every tier missed. */
  #loadMissing(keys: readonly string[], values: (V | undefined)[]): Promise<(V | undefined)[]> {
    let loads: Promise<unknown>[] | undefined
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== undefined) continue
      const at = i
      ;(loads ??= []).push(this.#load(keys[i]).then((value) => (values[at] = value)))
    }
    return loads === undefined ? Promise.resolve(values) : Promise.all(loads).then(() => values)
  }

  /** Read-through for a key every tier missed: one loader call per key at a time. */
  #load(key: string): Promise<V | undefined> {
    // What the loader returns is cached under the key: it must be a key a write would take.
    const refused = this.#admission.keyProblem(key)
    if (refused !== undefined) return Promise.reject(refused)
    const loader = this.#loader as Loader<V>
    const load = (context: { signal: AbortSignal }): Promise<V | undefined> =>
      callSource(key, 'loader', () => loader(key, context), this.#tiers.notifier, this.#scheduler)
    return this.#loads.run(key, load, (value) => this.#store(key, value, 0, undefined))
  }

  /** A write of `key` wins over the loads of it under way: their late results will not be stored. */
  #superseded(key: string): void {
    this.#flights.supersede(key)
    this.#loads.supersede(key)
    this.#ahead?.written(key)
  }

  /** Stores what a source returned, unless it returned nothing; throws as a write of it would. */
  #store(key: string, value: V | undefined, ttl: number, tags: readonly string[] | undefined): void {
    if (value === undefined) return
    this.#admission.checkValue(key, value)
    this.set(key, value, ttl, tags)
  }
}
