import type { RedisClient } from './redis-client.js'

/** The `remote` option, checked and with its defaults. */
export interface ResolvedRemote {
  redis: string | RedisClient
  prefix: string
  ttl: number
  commandTimeout: number
  whenDown: 'reject' | 'local'
  lockTimeout: number
  /** Ms a delete's tombstone is kept, so that a load begun before it does not store what it read. */
  tombstoneTtl: number
}
