import { type Observable, type SchedulerLike, asyncScheduler, interval, map } from 'rxjs'

/**
 * Samples `read` every `period` ms, starting one period after subscription.
 *
 * ```
 * period 3:
 * output:  ---a--b--c--
 * ```
 */
export function sampleStats<S>(read: () => S, period: number, scheduler: SchedulerLike = asyncScheduler): Observable<S> {
  return interval(period, scheduler).pipe(map(read))
}
