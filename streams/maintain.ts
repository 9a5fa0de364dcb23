import { EMPTY, type Observable, type ObservableInput, type SchedulerLike, asyncScheduler, catchError, defer, exhaustMap, expand, interval } from 'rxjs'

export interface MaintenanceOptions {
  /** Ms between two runs. */
  period: number
  /** One bounded piece of the work; resolves true while more is due. */
  slice: () => ObservableInput<boolean>
  /** A failed slice ends its run, not the flow: the next tick tries again. */
  onError: (error: unknown) => void
}

/**
 * Upkeep on a timer (compaction, size enforcement, fsync): on each tick of
 * `period`, runs `slice` again and again while it answers true, each slice
 * after the previous one finished. A tick that comes while a run is under
 * way is skipped, so slow I/O never piles runs up. Emits each slice's answer.
 *
 * ```
 * period 3, slices of 1 frame answering true, true, false:
 * output:  ----ttf-ttf…   (a run starts on frames 3, 9, …; frame 6 was skipped)
 * ```
 */
export function maintain(options: MaintenanceOptions, scheduler: SchedulerLike = asyncScheduler): Observable<boolean> {
  const run = (): Observable<boolean> =>
    defer(options.slice).pipe(
      expand((more) => (more ? defer(options.slice) : EMPTY)),
      catchError((error: unknown) => {
        options.onError(error)
        return EMPTY
      }),
    )
  return interval(options.period, scheduler).pipe(exhaustMap(run))
}
