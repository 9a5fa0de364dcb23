import type { Observable } from 'rxjs'

/**
 * What one instance tells the others after a write: drop your copies of
 * these keys (`keys`), of every key with this tag (`tag`), or of every key
 * (`all`). `version` orders writes of one key: a copy whose version is at
 * least this one is kept. `origin` is the writer's `instanceId`: an
 * instance ignores its own.
 */
export interface Invalidation {
  origin: string
  version: number
  keys?: readonly string[]
  tag?: string
  all?: true
}

/**
 * A transport's connection, as it changes:
 * - `connected`: messages flow (the first connection);
 * - `disconnected`: messages may be missed from now on;
 * - `resynced`: back after every disconnect; the `replayed` messages it had
 *   missed (maybe 0) were emitted first, and `gap` says that some were lost
 *   for good (past the retention, or the server lost them): every local copy
 *   written before must go.
 */
export type TransportState = { state: 'connected' } | { state: 'disconnected' } | { state: 'resynced'; replayed: number; gap: boolean }

/**
 * How invalidations travel between instances. `messages$` emits every
 * message of other instances in publish order, at most once each while
 * subscribed; `state$` replays the current state to a new subscriber. The
 * cache subscribes to each once.
 */
export interface Transport {
  publish(message: Invalidation): Promise<void>
  readonly messages$: Observable<Invalidation>
  readonly state$: Observable<TransportState>
  /** Releases what the transport opened. */
  close?(): Promise<void>
}

/**
 * The Redis layout shared by the remote tier's scripts and the Redis
 * transport, under one prefix (default `strata:`):
 * - `<prefix>bus`: a Stream of invalidations, trimmed by `MINID` to the retention;
 *   entry fields `o` (origin), `v` (version, decimal), and one of `k` (a JSON
 *   array of keys), `t` (a tag), `a` ('1': all);
 * - `<prefix>version`: the counter every write's version comes from (`INCR`);
 * - `<prefix>epoch`: a random id set once (`SET NX`) by the first client to
 *   find none: a Redis that lost its data (a restart without persistence)
 *   has a new one, and an instance that sees it change drops every local copy.
 */
export const STREAM_FIELDS = { origin: 'o', version: 'v', keys: 'k', tag: 't', all: 'a' } as const

/** The stream entry's field list for a message: [field, value, field, value...]. */
export function encodeInvalidation(message: Invalidation): string[] {
  const fields = [STREAM_FIELDS.origin, message.origin, STREAM_FIELDS.version, String(message.version)]
  if (message.keys !== undefined) fields.push(STREAM_FIELDS.keys, JSON.stringify(message.keys))
  else if (message.tag !== undefined) fields.push(STREAM_FIELDS.tag, message.tag)
  else fields.push(STREAM_FIELDS.all, '1')
  return fields
}

/** The message a stream entry holds; undefined for an entry that is not one. */
export function decodeInvalidation(fields: readonly string[]): Invalidation | undefined {
  let origin: string | undefined
  let version = Number.NaN
  let keys: string[] | undefined
  let tag: string | undefined
  let all = false
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]
    switch (fields[i]) {
      case STREAM_FIELDS.origin:
        origin = value
        break
      case STREAM_FIELDS.version:
        version = Number(value)
        break
      case STREAM_FIELDS.keys:
        try {
          const parsed: unknown = JSON.parse(value)
          if (Array.isArray(parsed) && parsed.every((key) => typeof key === 'string')) keys = parsed
        } catch {
          return undefined
        }
        break
      case STREAM_FIELDS.tag:
        tag = value
        break
      case STREAM_FIELDS.all:
        all = value === '1'
        break
    }
  }
  if (origin === undefined || !Number.isFinite(version)) return undefined
  if (keys !== undefined) return { origin, version, keys }
  if (tag !== undefined) return { origin, version, tag }
  return all ? { origin, version, all: true } : undefined
}
