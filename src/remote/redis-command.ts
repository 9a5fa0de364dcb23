import { isCacheError } from '../errors.js'
import { type RedisClient, remoteError } from './redis-client.js'

/** node-redis's RESP type code for a bulk string (RESP_TYPES.BLOB_STRING): mapped to Buffer, values stay binary. */
const BLOB_STRING = 36
const AS_BUFFERS = { [BLOB_STRING]: Buffer }

export interface CommandCall {
  /** Ms until the call rejects, sent or not: a Redis that stopped answering fails the call, not the caller. */
  readonly timeout: number
  /** Bulk replies as Buffers (binary values) rather than strings. */
  readonly buffers?: boolean
}

/** One Redis command; a failure, refusal or timeout rejects with E_REMOTE. */
export async function command<T>(client: RedisClient, args: ReadonlyArray<string | Uint8Array>, call: CommandCall): Promise<T> {
  try {
    return await client.sendCommand<T>(args.map(asArgument), {
      timeout: call.timeout,
      rejectInFlight: true,
      ...(call.buffers === true ? { typeMapping: AS_BUFFERS } : {}),
    })
  } catch (error) {
    if (isCacheError(error)) throw error
    throw remoteError(`Redis ${String(args[0])} failed: ${error instanceof Error ? error.message : String(error)}`, error)
  }
}

/** A reply's error text, for a caller that handles one error (NOSCRIPT) itself. */
export const causeMessage = (error: unknown): string => (error instanceof Error && error.cause instanceof Error ? error.cause.message : '')

/** node-redis takes strings and Buffers only: a Uint8Array is viewed as a Buffer, not copied. */
const asArgument = (arg: string | Uint8Array): string | Uint8Array =>
  typeof arg === 'string' || Buffer.isBuffer(arg) ? arg : Buffer.from(arg.buffer, arg.byteOffset, arg.byteLength)
