import { CacheError } from '../errors.js'

/** A command's options as node-redis takes them (v5 and later): a deadline, and how replies are typed. */
export interface RedisCommandOptions {
  timeout?: number
  abortSignal?: AbortSignal
  typeMapping?: object
  /** With `timeout` or `abortSignal`: a command already sent rejects too. */
  rejectInFlight?: boolean
}

/**
 * The part of a node-redis client (the `redis` package, v5 or later) that
 * strata-cache uses: raw commands, and a second connection for blocking
 * reads and Pub/Sub. An application may pass the client it has; the cache then never
 * closes it.
 */
export interface RedisClient {
  sendCommand<T = unknown>(args: ReadonlyArray<string | Uint8Array>, options?: RedisCommandOptions): Promise<T>
  duplicate(): RedisClient
  /** Pub/Sub on this connection (which then takes no other command); resolves once the server confirmed. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>
  unsubscribe(channel: string, listener?: (message: string, channel: string) => void): Promise<void>
  connect(): Promise<unknown>
  readonly isOpen: boolean
  readonly isReady: boolean
  on(event: string, listener: (...args: never[]) => void): unknown
  off(event: string, listener: (...args: never[]) => void): unknown
  close(): Promise<void>
  destroy(): void
}

/** A failed or timed-out Redis call, as every remote operation reports it. */
export const remoteError = (message: string, cause?: unknown): CacheError => new CacheError('E_REMOTE', message, { cause })
