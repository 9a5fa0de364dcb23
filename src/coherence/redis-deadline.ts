import type { SchedulerLike } from 'rxjs'
import { type RedisClient, remoteError } from '../remote/redis-client.js'

/**
 * Sends a command that fails with `E_REMOTE` unless its reply comes within
 * `ms` on the scheduler's clock, also once it is on the wire: node-redis's
 * own `timeout` stops at the write for a blocking command (`XREAD BLOCK`),
 * and a partition holds the reply without an error.
 */
export async function callWithin<T>(client: RedisClient, args: readonly string[], ms: number, scheduler: SchedulerLike): Promise<T> {
  const controller = new AbortController()
  const deadline = scheduler.schedule(() => controller.abort(), ms)
  try {
    return await client.sendCommand<T>(args, { abortSignal: controller.signal, rejectInFlight: true })
  } catch (error) {
    throw remoteError(controller.signal.aborted ? `${args[0]} took over ${ms} ms` : `${args[0]} failed`, error)
  } finally {
    deadline.unsubscribe()
  }
}

/** `promise`, or an `E_REMOTE` rejection if it does not settle within `ms` on the scheduler's clock. */
export function settleWithin<T>(promise: Promise<T>, ms: number, scheduler: SchedulerLike, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = scheduler.schedule(() => reject(remoteError(`${what} took over ${ms} ms`)), ms)
    promise.then(
      (value) => {
        deadline.unsubscribe()
        resolve(value)
      },
      (error: unknown) => {
        deadline.unsubscribe()
        reject(remoteError(`${what} failed`, error))
      },
    )
  })
}
