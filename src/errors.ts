/**
 * The stable error codes. Programs outside the project switch on them, so a
 * code, once published, keeps its meaning.
 */
export type CacheErrorCode =
  | 'E_CLOSED'
  | 'E_INVALID_KEY'
  | 'E_INVALID_VALUE'
  | 'E_INVALID_OPTIONS'
  | 'E_CODEC'
  | 'E_IO'
  | 'E_LOCKED'
  | 'E_CORRUPT'
  | 'E_LOADER'
  | 'E_REENTRANT'
  /** A tier's inbox was full and its `inbox.whenFull` option says 'reject': the request was not taken, nothing changed. */
  | 'E_BACKPRESSURE'
  /** The writer's `write` failed (its error is the `cause`): in write-through for this call, in `flush()` after the retries. */
  | 'E_WRITER'
  /** A loader or `getOrSet` factory ran past its `timeout.hard`: its signal was aborted, and no stale value within `grace` could stand in. */
  | 'E_TIMEOUT'
  /** A call to the remote tier (Redis) failed or ran past its `commandTimeout`, or its breaker is open; with `remote.whenDown: 'reject'`, a write was not taken. */
  | 'E_REMOTE'

export class CacheError extends Error {
  override readonly name = 'CacheError'
  readonly code: CacheErrorCode

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options)
    this.code = code
  }
}

export const isCacheError = (error: unknown, code?: CacheErrorCode): error is CacheError =>
  error instanceof CacheError && (code === undefined || error.code === code)

/** `error` itself when it is a `CacheError`; otherwise a `CacheError` of `code` saying `message`, with `error` as its cause. */
export const asCacheError = (error: unknown, code: CacheErrorCode, message: string): CacheError =>
  isCacheError(error) ? error : new CacheError(code, message, { cause: error })
