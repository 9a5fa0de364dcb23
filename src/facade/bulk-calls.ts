import { type Observable, type SchedulerLike, takeUntil } from 'rxjs'
import { rangeInSlices } from '../../streams/slices.js'
import type { CacheError } from '../errors.js'

// A bulk call (getMany, deleteMany, deleteByTag) does at most this many keys between two yields to the event loop
// (about 3 ms of deletes or of reads from memory), and stops sooner once this many ms have passed (keys read from
// disk cost some 20 µs each to set going).
const BULK_SLICE_KEYS = 4096
const BULK_SLICE_MS = 5
// Keys done between two looks at the clock; a call of no more is done at once.
const BULK_CHECK_KEYS = 64

/** Bulk calls, one call per key in slices on the scheduler, so that none holds the event loop for long. */
export class BulkCalls {
  readonly #scheduler: SchedulerLike
  readonly #closing: Observable<void>
  readonly #closed: () => CacheError

  /** `closing` emits when the cache closes; a call still slicing then rejects with `closed()`. */
  constructor(scheduler: SchedulerLike, closing: Observable<void>, closed: () => CacheError) {
    this.#scheduler = scheduler
    this.#closing = closing
    this.#closed = closed
  }

  /** What `each` gives for every run of consecutive keys (getMany's reads, a run at a time), in order. */
  all<T>(keys: readonly string[], each: (run: readonly string[]) => Promise<T[]>): Promise<T[]> {
    const runs: Promise<T[]>[] = []
    const visit = (from: number, to: number): void => {
      runs.push(each(from === 0 && to === keys.length ? keys : keys.slice(from, to)))
    }
    return this.#run(keys.length, visit, runs, async () => {
      const found = await Promise.all(runs)
      return found.length === 1 ? found[0] : found.flat()
    })
  }

  /** For how many keys `each` gives true (deleteMany's deletes), once all are in. */
  count(keys: readonly string[], each: (key: string) => boolean | Promise<boolean>): Promise<number> {
    const results = new Array<boolean | Promise<boolean>>(keys.length)
    const visit = (from: number, to: number): void => {
      for (let i = from; i < to; i++) results[i] = each(keys[i])
    }
    return this.#run(keys.length, visit, results, async () => (await Promise.all(results)).filter(Boolean).length)
  }

  /**
   * Runs `visit` over `[0, count)`, the first slice at once and the rest as
   * scheduled actions, then resolves with what `finish` makes of the
   * results. When the cache closes first, rejects, and the failures of the
   * results begun are still seen (never unhandled).
   */
  #run<T>(count: number, visit: (from: number, to: number) => void, results: readonly unknown[], finish: () => Promise<T>): Promise<T> {
    const sliced = this.#slice(count, visit)
    if (sliced === undefined) return finish()
    return sliced.then(finish, (error: unknown) => {
      void Promise.allSettled(results)
      throw error
    })
  }

  /** The slicing, or undefined when the first slice was all of it. */
  #slice(count: number, visit: (from: number, to: number) => void): Promise<void> | undefined {
    if (count <= BULK_CHECK_KEYS) {
      visit(0, count)
      return undefined
    }
    let finished = false
    const slices = rangeInSlices(count, { size: BULK_SLICE_KEYS, budget: BULK_SLICE_MS, check: BULK_CHECK_KEYS }, visit, this.#scheduler)
    const sliced = new Promise<void>((resolve, reject) => {
      slices.pipe(takeUntil(this.#closing)).subscribe({
        next: (done) => (finished = done === count),
        error: reject,
        complete: () => (finished ? resolve() : reject(this.#closed())),
      })
    })
    return finished ? undefined : sliced
  }
}
