import {
  EMPTY,
  Observable,
  type ObservableInput,
  type SchedulerLike,
  asyncScheduler,
  catchError,
  concatMap,
  defaultIfEmpty,
  defer,
  expand,
  filter,
  map,
  of,
  race,
  take,
} from 'rxjs'

export interface BackoffOptions {
  /** Ms before the first attempt. */
  firstDelay: number
  /** The delay doubles after each failed attempt, up to this many ms. */
  maxDelay: number
  /** One attempt: it succeeded when it emits or completes, failed when it errors. */
  attempt: () => ObservableInput<unknown>
  /** A failed attempt, and its number (0 for the first). */
  failed?: (error: unknown, attempt: number) => void
  /**
   * Something else saw the resource come back (a bus that reconnected to
   * the same server): a wait under way ends at once with an attempt. If that
   * attempt fails (the resource is still coming up), the delays start again
   * from `firstDelay`.
   */
  soon?: Observable<unknown>
}

interface Outcome {
  attempt: number
  /** Which delay came before it: the first is 0, each failure doubles it, a failure after being told it is back starts again. */
  step: number
  ok: boolean
}

/**
 * Tries again, with backoff, until an attempt succeeds: the first after
 * `firstDelay`, each later one twice the previous delay (at most
 * `maxDelay`) after the previous attempt ended; one attempt at a time.
 * Emits the number of the attempt that succeeded (0 for the first), then
 * completes. Unsubscribing stops it. Its timers do not keep a Node process
 * alive: a program that gave up on what is retried may end without waiting.
 *
 * ```
 * firstDelay 2, maxDelay 4, attempts of 1 frame, the first two failing:
 * attempts: --a---b----c     (a ends at 3, b starts 4 later, c 4 later: capped)
 * output:   -------------(2|)
 *
 * the same, told `soon` at 9: c starts then, not at 12
 * soon:     ---------s
 * output:   ----------(2|)
 * (had c failed, the next attempt would come 2 after it ended: the delays start again)
 * ```
 */
export function probeWithBackoff(options: BackoffOptions, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  const soon = options.soon
  // Emits whether `soon` cut the wait short.
  const wait = (step: number): Observable<boolean> => {
    const timer = unrefTimer(Math.min(options.firstDelay * 2 ** Math.min(step, 52), options.maxDelay), scheduler).pipe(map(() => false))
    if (soon === undefined) return timer
    const told = soon.pipe(
      take(1),
      map(() => true),
    )
    return race(timer, told)
  }
  const after = (attempt: number, step: number): Observable<Outcome> =>
    wait(step).pipe(
      concatMap((told) =>
        defer(options.attempt).pipe(
          take(1),
          defaultIfEmpty(undefined),
          map(() => ({ attempt, step, ok: true })),
          catchError((error: unknown) => {
            options.failed?.(error, attempt)
            // Told it is back, and it still failed: the resource is coming up. Back off from the start again.
            return of({ attempt, step: told ? -1 : step, ok: false })
          }),
        ),
      ),
    )
  return after(0, 0).pipe(
    expand((outcome) => (outcome.ok ? EMPTY : after(outcome.attempt + 1, outcome.step + 1))),
    filter((outcome) => outcome.ok),
    take(1),
    map((outcome) => outcome.attempt),
  )
}

/** One emission after `delay` ms on the scheduler; on Node's clock its timer does not hold the process open. */
function unrefTimer(delay: number, scheduler: SchedulerLike): Observable<0> {
  return new Observable<0>((subscriber) => {
    const action = scheduler.schedule(() => {
      subscriber.next(0)
      subscriber.complete()
    }, delay)
    // An rxjs action on a real clock keeps its timer handle in `id`; a virtual clock's has no unref.
    ;(action as { id?: { unref?: () => void } }).id?.unref?.()
    return action
  })
}
