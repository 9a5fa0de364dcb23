import { type Observable, type SchedulerLike, asyncScheduler, exhaustMap, interval, takeWhile } from 'rxjs'
import { inSlices } from './slices.js'

export interface ExpiryOptions {
  /** Ms between two sweeps. */
  period: number
  /** Whether anything may expire; the flow completes at the first tick where it is false. */
  pending: () => boolean
  /** One bounded slice of the sweep; true while the sweep has more to do. */
  sweepSlice: () => boolean
}

/**
 * The expiry sweep: on every tick of `period`, sweeps in slices until a whole
 * pass is done. A tick that comes while a sweep still runs is skipped, not
 * queued. Emits the number of each finished slice.
 *
 * ```
 * period 4, a sweep of two slices:
 * output:  ----(01)(01)...   one group every 4 frames
 * ```
 */
export function expire(options: ExpiryOptions, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  return interval(options.period, scheduler).pipe(
    takeWhile(() => options.pending()),
    exhaustMap(() => inSlices(options.sweepSlice, scheduler)),
  )
}
