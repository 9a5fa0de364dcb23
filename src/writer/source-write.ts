import { Observable } from 'rxjs'
import type { CircuitBreaker } from '../guards/circuit-breaker.js'
import type { ResolvedWriter, WriteOp } from '../options/writer-options.js'
import { yieldToLoop } from '../tiers/cold/yield.js'

/**
 * The one place where ops reach the source: every `write` call of both
 * modes goes through here (a circuit breaker wraps this call). A `write`
 * that throws synchronously counts as a rejection.
 */
export async function callWrite<V>(
  write: ResolvedWriter<V>['write'],
  ops: WriteOp<V>[],
  signal: AbortSignal,
  breaker: CircuitBreaker | undefined,
): Promise<void> {
  if (breaker === undefined) await write(ops, { signal })
  // An open breaker rejects with BreakerOpenError, not calling the source: write-back's ops stay dirty and are tried again.
  else await breaker.run(() => write(ops, { signal }))
}

/**
 * `callWrite` as an Observable: completes when the source took the ops
 * (in a later turn of the event loop, so that a source answering at once
 * cannot chain every batch of a flush into one turn); unsubscribing aborts
 * the call's signal.
 */
export function writeObservable<V>(write: ResolvedWriter<V>['write'], breaker: CircuitBreaker | undefined): (ops: readonly WriteOp<V>[]) => Observable<void> {
  return (ops) =>
    new Observable<void>((subscriber) => {
      const controller = new AbortController()
      let done = false
      callWrite(write, [...ops], controller.signal, breaker).then(
        async () => {
          done = true
          await yieldToLoop()
          subscriber.complete()
        },
        (error: unknown) => {
          done = true
          subscriber.error(error)
        },
      )
      return () => {
        if (!done) controller.abort()
      }
    })
}
