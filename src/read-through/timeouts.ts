import type { SchedulerLike } from 'rxjs'
import { CacheError } from '../errors.js'
import type { Factory } from './single-flight.js'

/**
 * `call` with a hard limit: past `hard` ms on the scheduler, the signal it was
 * given is aborted and the load rejects with `E_TIMEOUT` (told to `timedOut`
 * first), whatever `call` does after. The timer ends with the load, or when
 * the flight's own signal aborts (the cache closed): none is left behind.
 */
export function withHardTimeout<T>(
  call: Factory<T>,
  hard: number,
  scheduler: SchedulerLike,
  timedOut: () => CacheError,
): (context: { signal: AbortSignal }) => Promise<T> {
  return (context) =>
    new Promise<T>((resolve, reject) => {
      const outer = context.signal
      const controller = new AbortController()
      const stop = (): void => {
        timer.unsubscribe()
        outer.removeEventListener('abort', closed)
      }
      const closed = (): void => {
        stop()
        controller.abort(outer.reason)
        reject(outer.reason)
      }
      const timer = scheduler.schedule(() => {
        outer.removeEventListener('abort', closed)
        const error = timedOut()
        controller.abort(error)
        reject(error)
      }, hard)
      outer.addEventListener('abort', closed)
      new Promise<T>((started) => started(call({ signal: controller.signal }))).then(
        (value) => (stop(), resolve(value)),
        (error: unknown) => (stop(), reject(error)),
      )
    })
}

/**
 * `load`, or `fallback` if `load` has not settled within `soft` ms on the
 * scheduler; `load` goes on either way. The timer ends when `load` settles.
 */
export function withSoftTimeout<T>(load: Promise<T>, soft: number, fallback: T, scheduler: SchedulerLike): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = scheduler.schedule(() => resolve(fallback), soft)
    load.then(
      (value) => (timer.unsubscribe(), resolve(value)),
      (error: unknown) => (timer.unsubscribe(), reject(error)),
    )
  })
}

export const timeoutError = (source: string, key: string, hard: number): CacheError =>
  new CacheError('E_TIMEOUT', `the ${source} for '${key}' took longer than ${hard} ms (timeout.hard): its signal was aborted`)
