import { Observable, Subject, type Subscription } from 'rxjs'
import { prefetch } from '../../streams/prefetch.js'
import { CacheError } from '../errors.js'
import type { Notifier } from '../observe/notifier.js'
import type { Loader } from '../options/options.js'
import { PredictionScore } from './prediction-score.js'
import { PrefetchBuffer } from './prefetch-buffer.js'
import { StridePredictor } from './stride-predictor.js'
import { SuccessorPredictor } from './successor-predictor.js'

export interface PrefetchSettings {
  maxInFlight: number
  minConfidence: number
}

// Entries loaded ahead wait in a buffer of this many per load allowed in flight.
const BUFFERED_PER_LOAD = 16
const NONE: readonly string[] = []

/**
 * Hangs prefetching on the cache: every `get` is an access the predictors
 * learn from; the prefetch flow loads what they predict through the cache's
 * loader into a buffer outside the tiers, where a `get` finds it.
 */
export class PrefetchLink<V> {
  readonly #buffer: PrefetchBuffer<V>
  /** Outcomes of the loads ahead: the flow pauses loading when too few are used. */
  readonly #score: PredictionScore
  readonly #accesses = new Subject<string>()
  /**
   * Loads under way, each settled when it ends; `stale` when its key is
   * written meanwhile (its value is then wasted), `cleared` when the cache
   * was emptied meanwhile (wasted too, without a verdict).
   */
  readonly #loading = new Map<string, { stale: boolean; cleared: boolean; done: Promise<void> }>()
  readonly #subscription: Subscription

  /**
   * `needless`: whether loading the key ahead would be wasted: the cache holds it, is already loading it for a
   * read, or could not store a value under it (a key a write would refuse; a read of one is allowed).
   */
  constructor(settings: PrefetchSettings, loader: Loader<V>, needless: (key: string) => boolean, notifier: Notifier<V>) {
    const capacity = Math.max(64, settings.maxInFlight * BUFFERED_PER_LOAD)
    const score = (this.#score = new PredictionScore({ shadowCapacity: capacity }))
    const buffer = (this.#buffer = new PrefetchBuffer<V>(capacity, (_key, used) => score.judge(used)))
    const stride = new StridePredictor()
    const successors = new SuccessorPredictor()
    // The successors are pushed here, then copied out only when there are some: most accesses allocate nothing.
    const followers: string[] = []
    const predict = (key: string): readonly string[] => {
      const next = stride.next(key)
      followers.length = 0
      successors.next(key, followers)
      if (followers.length === 0) return next === undefined ? NONE : [next]
      const predicted = next === undefined ? [] : [next]
      for (const follower of followers) if (follower !== next) predicted.push(follower)
      return predicted
    }
    const wanted = (key: string): boolean => !this.#loading.has(key) && !buffer.has(key) && !needless(key)
    const load = (key: string): Observable<never> =>
      new Observable<never>((subscriber) => {
        const controller = new AbortController()
        let settled!: () => void
        const loading = { stale: false, cleared: false, done: new Promise<void>((resolve) => (settled = resolve)) }
        this.#loading.set(key, loading)
        notifier.prefetched(key)
        Promise.resolve()
          .then(() => loader(key, { signal: controller.signal }))
          .then(
            (value) => {
              if (controller.signal.aborted || loading.cleared) {
                // closed, or the cache emptied: no verdict
              } else if (loading.stale || value === undefined) {
                score.judge(false) // written meanwhile, or nothing to load: a read goes to the loader
              } else {
                buffer.put(key, value)
              }
              subscriber.complete()
            },
            (error: unknown) => {
              if (!controller.signal.aborted && !loading.cleared) score.judge(false)
              subscriber.error(error)
            },
          )
        return () => {
          if (this.#loading.get(key) === loading) this.#loading.delete(key)
          controller.abort()
          settled()
        }
      })
    this.#subscription = this.#accesses.pipe(prefetch({ ...settings, predict, wanted, load, score })).subscribe((event) => {
      if (event.type === 'failed') {
        notifier.error(new CacheError('E_LOADER', `the loader failed to prefetch '${event.key}'`, { cause: event.error }), event.key)
      }
    })
  }

  /** Settles when a load ahead of the key, under way now, has ended (its value then waits in the buffer); undefined when none runs. */
  pending(key: string): Promise<void> | undefined {
    return this.#loading.get(key)?.done
  }

  /** The value loaded ahead for `key`, handed over (it leaves the buffer); undefined when none waits. */
  take(key: string): V | undefined {
    return this.#buffer.take(key)
  }

  accessed(key: string): void {
    this.#accesses.next(key)
  }

  /** The key was written or deleted: a value loaded ahead is out of date. */
  written(key: string): void {
    this.#buffer.drop(key)
    this.#score.written(key)
    const loading = this.#loading.get(key)
    if (loading !== undefined) loading.stale = true
  }

  cleared(): void {
    this.#buffer.clear()
    this.#score.cleared()
    for (const loading of this.#loading.values()) loading.cleared = true
  }

  close(): void {
    this.#subscription.unsubscribe()
    this.#accesses.complete()
  }
}
