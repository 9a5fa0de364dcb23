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
}

interface Outcome {
  attempt: number
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
 * ```
 */
export function probeWithBackoff(options: BackoffOptions, scheduler: SchedulerLike = asyncScheduler): Observable<number> {
  const after = (attempt: number): Observable<Outcome> =>
    unrefTimer(Math.min(options.firstDelay * 2 ** Math.min(attempt, 52), options.maxDelay), scheduler).pipe(
      concatMap(() => defer(options.attempt).pipe(take(1), defaultIfEmpty(undefined))),
      map(() => ({ attempt, ok: true })),
      catchError((error: unknown) => {
        options.failed?.(error, attempt)
        return of({ attempt, ok: false })
      }),
    )
  return after(0).pipe(
    expand((outcome) => (outcome.ok ? EMPTY : after(outcome.attempt + 1))),
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
