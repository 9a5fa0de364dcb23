import type { SchedulerLike } from 'rxjs'
import { CacheError } from '../errors.js'
import type { Notifier } from '../observe/notifier.js'

/** What supplies a value for a key every tier missed: the `loader` option, or a `getOrSet` factory. */
export type Source = 'loader' | 'factory'

/**
 * Calls a source for `key`, so that both kinds count and fail alike: each
 * call is a load (counted, and told with its duration on the scheduler's
 * clock, whether it found a value, found none or failed), and a failure
 * becomes `E_LOADER` with the source's error as its `cause`, reported on
 * `events$` as well as rejected.
 */
export async function callSource<T>(
  key: string,
  source: Source,
  call: () => T | Promise<T>,
  notifier: Pick<Notifier<unknown>, 'loaded' | 'error'>,
  scheduler: SchedulerLike,
): Promise<T> {
  const started = scheduler.now()
  try {
    return await call()
  } catch (error) {
    const failure = new CacheError('E_LOADER', `the ${source} failed for '${key}'`, { cause: error })
    notifier.error(failure, key)
    throw failure
  } finally {
    notifier.loaded(key, scheduler.now() - started)
  }
}
