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

export interface RangeSliceOptions {
  /** Items in one slice at most. */
  size: number
  /** Ms of the scheduler's clock after which a slice ends early; none by default. */
  budget?: number
  /** Items visited between two looks at the clock, when there is a budget (64 by default). */
  check?: number
}

/**
 * Visits the items `[0, count)` in slices: the first one when subscribed,
 * each further one its own scheduled action, as `inSlices` runs them. A
 * slice ends after `size` items, or sooner once the scheduler's clock has
 * moved `budget` ms since it began: so a slice of costly items (read from
 * disk, say) stays as short as one of cheap ones, while on a virtual
 * scheduler, whose clock stands still, `size` alone cuts. `visit(from, to)`
 * is called for consecutive runs of items. Emits how many items are done as
 * each slice ends.
 *
 * ```
 * 10 items, size 4:
 * visits:  [0,4) [4,8) [8,10)
 * output:  (a     b     c|)     a = 4, b = 8, c = 10; on a virtual scheduler, all in one frame
 * ```
 */
export function rangeInSlices(
  count: number,
  options: RangeSliceOptions,
  visit: (from: number, to: number) => void,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<number> {
  const { size, budget } = options
  const check = budget === undefined ? size : Math.min(size, options.check ?? 64)
  return new Observable<number>((subscriber) => {
    let done = 0
    const slice = (): boolean => {
      const end = Math.min(count, done + size)
      const started = budget === undefined ? 0 : scheduler.now()
      while (done < end) {
        const to = Math.min(end, done + check)
        visit(done, to)
        done = to
        if (budget !== undefined && scheduler.now() - started >= budget) break
      }
      subscriber.next(done)
      return done < count
    }
    try {
      if (!slice()) return subscriber.complete()
    } catch (error) {
      return subscriber.error(error)
    }
    return inSlices(slice, scheduler).subscribe({ error: (error: unknown) => subscriber.error(error), complete: () => subscriber.complete() })
  })
}
