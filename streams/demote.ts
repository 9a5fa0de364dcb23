import { type Observable, type OperatorFunction, type SchedulerLike, asyncScheduler, bufferTime, filter, map } from 'rxjs'

export interface DemotionOptions<T> {
  /** Called for an entry that expired before it could move down; it is dropped. */
  expired?: (entry: T) => void
  /** Collect demotions for this many ms and pass them on together (for the disk); absent: one at a time, at once. */
  batchWindow?: number
  /** Pass a batch on as soon as it holds this many. */
  maxBatch?: number
}

/**
 * Carries entries evicted from one tier to the next one down, dropping those
 * that expired on the way (their expiry is read on the scheduler's clock when
 * they arrive and again when their batch leaves). Emits arrays: one entry
 * each without a `batchWindow`, at the end of each window with one.
 *
 * ```
 * batchWindow 3:
 * evictions: -a-b----c--
 * output:    ---x--y--z-    x = [a, b], y is skipped (empty), z = [c]
 * ```
 */
export function demote<T extends { expiresAt: number }>(options: DemotionOptions<T> = {}, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T, T[]> {
  const live = (entry: T): boolean => {
    if (entry.expiresAt === 0 || entry.expiresAt > scheduler.now()) return true
    options.expired?.(entry)
    return false
  }
  return (source: Observable<T>) => {
    const arriving = source.pipe(filter(live))
    if (options.batchWindow === undefined) return arriving.pipe(map((entry) => [entry]))
    return arriving.pipe(
      bufferTime(options.batchWindow, null, options.maxBatch ?? Infinity, scheduler),
      map((batch) => batch.filter(live)),
      filter((batch) => batch.length > 0),
    )
  }
}
