import { type Observable, type SchedulerLike, asyncScheduler, defer, retry, timer } from 'rxjs'

export interface ReconnectOptions {
  /** Ms before the first new session after a failure. */
  firstDelay: number
  /** The delay doubles with each failure in a row, up to this many ms. */
  maxDelay: number
  /** A session failed; `failures` in a row so far (1 for the first). A hook that throws ends the flow with its error. */
  failed?: (error: unknown, failures: number) => void
}

/**
 * Runs a session, and a new one each time it fails: after `firstDelay`,
 * then twice the previous delay (at most `maxDelay`) while sessions fail
 * in a row; a session that emits has got through, and the next failure
 * waits `firstDelay` again. Emits what the sessions emit; completes when
 * one completes. Unsubscribing ends the session and any wait.
 *
 * ```
 * firstDelay 2, maxDelay 4: sessions fail at once twice, then one emits and fails, then one emits:
 * sessions: #  #    a#  b
 * output:   ---------a--b     (waits 2, 4, then 2 again after a session that got through)
 * ```
 */
export function reconnectWithBackoff<T>(session: () => Observable<T>, options: ReconnectOptions, scheduler: SchedulerLike = asyncScheduler): Observable<T> {
  return defer(session).pipe(
    retry({
      resetOnSuccess: true,
      delay: (error: unknown, failures: number) => {
        options.failed?.(error, failures)
        return timer(Math.min(options.firstDelay * 2 ** Math.min(failures - 1, 52), options.maxDelay), scheduler)
      },
    }),
  )
}
