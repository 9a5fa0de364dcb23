import { Observable, Subject, type Subscription } from 'rxjs'
import { prefetch } from '../streams/prefetch.js'
import { CacheError } from './errors.js'
import type { Notifier } from './notifier.js'
import type { Loader } from './options.js'
import { PredictionScore } from './prefetch/prediction-score.js'
import { PrefetchBuffer } from './prefetch/prefetch-buffer.js'
import { StridePredictor } from './prefetch/stride-predictor.js'
import { SuccessorPredictor } from './prefetch/successor-predictor.js'

export interface PrefetchSettings {
  maxInFlight: number
  minConfidence: number
}

// Entries loaded ahead wait in a buffer of this many per load allowed in flight.
const BUFFERED_PER_LOAD = 16

/**
 * Hangs prefetching on the cache: every `get` is an access the predictors
 * learn from; the prefetch flow loads what they predict through the cache's
 * loader into a buffer outside the tiers, where a `get` finds it.
 */
export class PrefetchLink<V> {
  readonly buffer: PrefetchBuffer<V>
  readonly #accesses = new Subject<string>()
  /** Loads under way, each marked stale when its key is written meanwhile, and settled when it ends. */
  readonly #loading = new Map<string, { stale: boolean; done: Promise<void> }>()
  readonly #subscription: Subscription

  /** `isCached`: whether the cache holds the key, or is already loading it for a read. */
  constructor(settings: PrefetchSettings, loader: Loader<V>, isCached: (key: string) => boolean, notifier: Notifier<V>) {
    this.buffer = new PrefetchBuffer<V>(Math.max(64, settings.maxInFlight * BUFFERED_PER_LOAD))
    const stride = new StridePredictor()
    const successors = new SuccessorPredictor()
    const predict = (key: string): string[] => {
      const predicted: string[] = []
      const next = stride.next(key)
      if (next !== undefined) predicted.push(next)
      const follower = successors.next(key)
      if (follower !== undefined && follower !== next) predicted.push(follower)
      return predicted
    }
    const wanted = (key: string): boolean => !this.#loading.has(key) && !this.buffer.has(key) && !isCached(key)
    const load = (key: string): Observable<never> =>
      new Observable<never>((subscriber) => {
        const controller = new AbortController()
        let settled!: () => void
        const loading = { stale: false, done: new Promise<void>((resolve) => (settled = resolve)) }
        this.#loading.set(key, loading)
        notifier.prefetched(key)
        Promise.resolve()
          .then(() => loader(key, { signal: controller.signal }))
          .then(
            (value) => {
              if (!loading.stale && !controller.signal.aborted && value !== undefined) this.buffer.put(key, value)
              subscriber.complete()
            },
            (error: unknown) => subscriber.error(error),
          )
        return () => {
          if (this.#loading.get(key) === loading) this.#loading.delete(key)
          controller.abort()
          settled()
        }
      })
    this.#subscription = this.#accesses
      .pipe(prefetch({ ...settings, predict, wanted, load, score: new PredictionScore() }))
      .subscribe((event) => {
        if (event.type === 'failed') {
          notifier.error(new CacheError('E_LOADER', `the loader failed to prefetch '${event.key}'`, { cause: event.error }), event.key)
        }
      })
  }

  /** Settles when a load ahead of the key, under way now, has ended (its value then waits in the buffer); undefined when none runs. */
  pending(key: string): Promise<void> | undefined {
    return this.#loading.get(key)?.done
  }

  accessed(key: string): void {
    this.#accesses.next(key)
  }

  /** The key was written or deleted: a value loaded ahead is out of date. */
  written(key: string): void {
    this.buffer.drop(key)
    const loading = this.#loading.get(key)
    if (loading !== undefined) loading.stale = true
  }

  cleared(): void {
    this.buffer.clear()
    for (const loading of this.#loading.values()) loading.stale = true
  }

  close(): void {
    this.#subscription.unsubscribe()
    this.#accesses.complete()
  }
}
