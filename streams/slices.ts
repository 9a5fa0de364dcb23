import { Observable, type SchedulerLike, asyncScheduler } from 'rxjs'

/**
 * Runs `step` again and again, each call its own scheduled action, until it
 * returns false; emits the number of each slice as it finishes. Between two
 * slices the scheduler gets control back, so on `asyncScheduler` timers and
 * I/O run between them and no slice holds the event loop for long.
 *
 * ```
 * step:     true true false
 * output:   (0   1    2|)     on a virtual scheduler, all in one frame
 * ```
 */
export function inSlices(step: () => boolean, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  return new Observable<number>((subscriber) => {
    let slice = 0
    return scheduler.schedule(function () {
      let more: boolean
      try {
        more = step()
      } catch (error) {
        subscriber.error(error)
        return
      }
      subscriber.next(slice++)
      if (!more) subscriber.complete()
      else if (!subscriber.closed) this.schedule(undefined, 0)
    })
  })
}
