import { Observable } from 'rxjs'
import type { ResolvedWriter, WriteOp } from '../options/options.js'
import { yieldToLoop } from '../tiers/cold/yield.js'

/**
 * The one place where ops reach the source: every `write` call of both
 * modes goes through here (a circuit breaker wraps this call). A `write`
 * that throws synchronously counts as a rejection.
 */
export async function callWrite<V>(write: ResolvedWriter<V>['write'], ops: WriteOp<V>[], signal: AbortSignal): Promise<void> {
  await write(ops, { signal })
}

/**
 * `callWrite` as an Observable: completes when the source took the ops
 * (in a later turn of the event loop, so that a source answering at once
 * cannot chain every batch of a flush into one turn); unsubscribing aborts
 * the call's signal.
 */
export function writeObservable<V>(write: ResolvedWriter<V>['write']): (ops: readonly WriteOp<V>[]) => Observable<void> {
  return (ops) =>
    new Observable<void>((subscriber) => {
      const controller = new AbortController()
      let done = false
      callWrite(write, [...ops], controller.signal).then(
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
