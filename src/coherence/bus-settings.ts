import type { RedisClient } from '../remote/redis-client.js'
import type { Transport } from './invalidation.js'

/** The `bus` option, checked and with its defaults. */
export type ResolvedBus =
  | { kind: 'redis'; redis: string | RedisClient; prefix: string; retention: number; commandTimeout: number; sharesRemote: boolean }
  | { kind: 'broadcast'; channel: string }
  | { kind: 'custom'; transport: Transport }
