import { type Observable, type SchedulerLike, asyncScheduler, concatMap, timer } from 'rxjs'
import { inSlices } from './slices.js'

export interface CompactionOptions {
  /** Ms from the call to the first slice: frees that come in a burst are reclaimed by one pass. */
  delay: number
  /** One bounded slice of the pass; true while the pass has more to do. */
  compactSlice: () => boolean
}

/**
 * One compaction pass: after `delay`, slices until the pass is done, each
 * its own scheduled action, then completes: no timer is left behind. Emits
 * the number of each finished slice.
 *
 * ```
 * delay 3, a pass of three slices:
 * output:  ---(abc|)   a = 0, b = 1, c = 2; on a virtual scheduler, all in one frame
 * ```
 */
export function compact(options: CompactionOptions, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  return timer(options.delay, scheduler).pipe(concatMap(() => inSlices(options.compactSlice, scheduler)))
}
