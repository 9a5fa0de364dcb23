/** A stream entry as Redis sends it: its id and its field list. */
export type StreamEntry = readonly [id: string, fields: readonly string[]]

/** The entries of an `XRANGE` reply. */
export function rangeEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return []
  const entries: StreamEntry[] = []
  for (const item of reply) {
    if (Array.isArray(item) && typeof item[0] === 'string' && Array.isArray(item[1])) entries.push([item[0], item[1].map(String)])
  }
  return entries
}

/**
 * The entries of an `XREAD` reply for one stream, in order; none for a
 * timed-out block (null). RESP2 sends `[[key, entries]]`, RESP3 a map from
 * key to entries (a Map or an object, by the client's type mapping).
 */
export function readEntries(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return []
  if (Array.isArray(reply)) return reply.flatMap((stream) => (Array.isArray(stream) ? rangeEntries(stream[1]) : []))
  if (reply instanceof Map) return [...reply.values()].flatMap(rangeEntries)
  if (typeof reply === 'object') return Object.values(reply).flatMap(rangeEntries)
  return []
}

/** A field of an `XINFO STREAM` reply: a flat list in RESP2, a map in RESP3. */
export function infoField(reply: unknown, name: string): unknown {
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1]
    return undefined
  }
  if (reply instanceof Map) return reply.get(name)
  if (typeof reply === 'object' && reply !== null) return (reply as Record<string, unknown>)[name]
  return undefined
}

/** Orders two stream ids (`<ms>-<seq>`); a bare `<ms>` is `<ms>-0`. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a)
  const [bMs, bSeq] = splitId(b)
  if (aMs !== bMs) return aMs < bMs ? -1 : 1
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-')
  return dash < 0 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))]
}
