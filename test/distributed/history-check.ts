/*
 * Checks a multi-process history against the coherence guarantee: no read
 * that started after its instance received (or itself acknowledged) version
 * v of a key returns a state of that key older than v.
 *
 * Versions come from the stream: every write of the cache appends exactly one
 * entry (origin, version, keys), and an instance's writes are sequential, so
 * its n-th entry is its n-th write that reached Redis. A write that rejected
 * may or may not have reached Redis (a timeout can come after the script
 * ran): such a write is ambiguous, and the checker does not guess. It finds
 * every way of matching the writes to the entries in which each acknowledged
 * write has its entry, and judges a read stale only if it is stale under all
 * of them.
 */

/** A time on the machine's monotonic clock (`process.hrtime.bigint()`), the same in every process. */
export type Instant = bigint

interface Write {
  op: 'set' | 'delete' | 'deleteByTag'
  key?: string
  tag?: string
  /** The value of a set: unique in the history. */
  value?: string
  start: Instant
  end: Instant
  /** The rejection's code: the write is ambiguous (it may have reached Redis). */
  error?: string
}

interface Read {
  op: 'get'
  key: string
  /** What it returned; null for undefined. */
  result: string | null
  start: Instant
  end: Instant
  error?: string
}

export type Operation = Write | Read

/** A message as an instance received it from the bus. */
export interface Received {
  origin: string
  version: number
  keys: readonly string[]
  at: Instant
}

export interface WorkerHistory {
  name: string
  /** In the order they ran, one at a time. */
  ops: readonly Operation[]
  received: readonly Received[]
  /** When the bus resynced with a gap (the server lost its data): later messages belong to a later epoch. */
  gaps: readonly Instant[]
}

export interface StreamEntry {
  origin: string
  version: number
  keys: readonly string[]
}

export interface History {
  /** The stream, per life of the Redis server (an epoch ends when it restarts empty), in order. */
  epochs: readonly (readonly StreamEntry[])[]
  workers: readonly WorkerHistory[]
  /** The keys each tag is given to. */
  tagKeys: Readonly<Record<string, readonly string[]>>
}

interface Violation {
  kind: 'stale' | 'phantom' | 'wrong-key'
  worker: string
  read: Read
  /** The newest version of the key the reader knew of, as `epoch:version`. */
  known?: string
  /** The versions the returned value may have. */
  got?: string[]
}

interface LatencySummary {
  count: number
  p50: number
  p99: number
  max: number
}

export interface CheckReport {
  readsChecked: number
  violations: Violation[]
  /** Reads that returned nothing though the key had a value in every state since the newest the reader knew (a miss: Redis unreachable, say). */
  misses: number
  /** Writes that rejected, and so may or may not have happened. */
  ambiguousWrites: number
  /** The stream and the logs disagree: an acknowledged write without its entry, an entry no write explains, a message not in the stream. */
  inconsistencies: string[]
  /** Receive time at each other instance minus the writer's acknowledgement, in ms. */
  latency: LatencySummary
}

/** A version across restarts: epochs first. */
type Position = number
const EPOCH_SPAN = 1e9
const position = (epoch: number, version: number): Position => epoch * EPOCH_SPAN + version
const showPosition = (at: Position): string => `${Math.floor(at / EPOCH_SPAN)}:${at % EPOCH_SPAN}`

interface PlacedEntry extends StreamEntry {
  at: Position
}

/** What an entry may have done to one key: a value, or null (deleted). */
type State = string | null

interface Matching {
  /** Per write (index in the worker's writes): the entries it may be, by index in the worker's entries. */
  options: Set<number>[]
  consistent: boolean
}

export function checkHistory(history: History): CheckReport {
  const inconsistencies: string[] = []
  const names = new Set(history.workers.map((w) => w.name))
  const entriesOf = new Map<string, PlacedEntry[]>()
  const byPosition = new Map<string, PlacedEntry>()
  history.epochs.forEach((entries, epoch) => {
    for (const entry of entries) {
      const placed = { ...entry, at: position(epoch, entry.version) }
      if (!names.has(entry.origin)) inconsistencies.push(`entry ${showPosition(placed.at)} from unknown origin '${entry.origin}'`)
      const list = entriesOf.get(entry.origin) ?? []
      list.push(placed)
      entriesOf.set(entry.origin, list)
      byPosition.set(`${entry.origin}@${placed.at}`, placed)
    }
  })

  // Which entries each write may be, and the states each entry may have left.
  const statesAt = new Map<string, Map<Position, Set<State>>>()
  /** Per value set: the positions it may have; undefined when its writer's history could not be matched (told as an inconsistency). */
  const setsByValue = new Map<string, { worker: string; write: Write; positions: Position[] | undefined }>()
  /** An acknowledged write whose entry is certain: when its writer knew its version, and what it tells others. */
  const acked = new Map<string, { write: Write; entry: PlacedEntry }[]>()
  const ackOf = new Map<string, Instant>()
  let ambiguousWrites = 0
  for (const worker of history.workers) {
    const writes = worker.ops.filter((op): op is Write => op.op !== 'get')
    ambiguousWrites += writes.filter((w) => w.error !== undefined).length
    const entries = entriesOf.get(worker.name) ?? []
    const matching = matchWrites(writes, entries, history.tagKeys)
    if (!matching.consistent) {
      const ambiguous = writes.filter((w) => w.error !== undefined).length
      inconsistencies.push(`${worker.name}: its ${writes.length} writes (${ambiguous} ambiguous) cannot be matched to its ${entries.length} stream entries`)
      for (const write of writes) if (write.op === 'set') setsByValue.set(write.value as string, { worker: worker.name, write, positions: undefined })
      continue
    }
    const certain: { write: Write; entry: PlacedEntry }[] = []
    writes.forEach((write, i) => {
      const options = [...matching.options[i]]
      for (const j of options) {
        const entry = entries[j]
        for (const key of entry.keys) {
          const perKey = statesAt.get(key) ?? new Map<Position, Set<State>>()
          statesAt.set(key, perKey)
          const states = perKey.get(entry.at) ?? new Set<State>()
          perKey.set(entry.at, states)
          states.add(write.op === 'set' ? (write.value as string) : null)
        }
      }
      if (write.op === 'set') setsByValue.set(write.value as string, { worker: worker.name, write, positions: options.map((j) => entries[j].at) })
      if (write.error === undefined && options.length === 1) {
        const entry = entries[options[0]]
        certain.push({ write, entry })
        ackOf.set(`${worker.name}@${entry.at}`, write.end)
      }
    })
    acked.set(worker.name, certain)
  }

  const violations: Violation[] = []
  const latencies: number[] = []
  let readsChecked = 0
  let misses = 0
  for (const worker of history.workers) {
    // What the worker knew, in time order: messages received and its own acknowledged writes.
    const learned: { at: Instant; keys: readonly string[]; version: Position }[] = []
    let epoch = 0
    const gaps = [...worker.gaps].sort(compareInstants)
    for (const message of [...worker.received].sort((a, b) => compareInstants(a.at, b.at))) {
      while (epoch < gaps.length && gaps[epoch] <= message.at) epoch++
      const entry = findEntry(byPosition, message, epoch, history.epochs.length)
      if (entry === undefined) {
        inconsistencies.push(`${worker.name} received ${message.origin} v${message.version} ${JSON.stringify(message.keys)}, which is not in the stream`)
        continue
      }
      learned.push({ at: message.at, keys: entry.keys, version: entry.at })
      const ack = ackOf.get(`${message.origin}@${entry.at}`)
      if (ack !== undefined) latencies.push(Number(message.at - ack) / 1e6)
    }
    for (const { write, entry } of acked.get(worker.name) ?? []) learned.push({ at: write.end, keys: entry.keys, version: entry.at })
    learned.sort((a, b) => compareInstants(a.at, b.at))

    const known = new Map<string, Position>()
    let next = 0
    const reads = worker.ops.filter((op): op is Read => op.op === 'get' && op.error === undefined)
    for (const read of [...reads].sort((a, b) => compareInstants(a.start, b.start))) {
      while (next < learned.length && learned[next].at < read.start) {
        const { keys, version } = learned[next++]
        for (const key of keys) if ((known.get(key) ?? -1) < version) known.set(key, version)
      }
      readsChecked++
      const newest = known.get(read.key)
      if (read.result === null) {
        if (newest !== undefined && !mayBeAbsentSince(statesAt.get(read.key), newest, history.epochs.length)) misses++
        continue
      }
      const set = setsByValue.get(read.result)
      const positions = set?.positions
      if (set !== undefined && positions === undefined) continue // its writer's history did not match: told as an inconsistency
      if (set === undefined || positions === undefined || positions.length === 0) {
        violations.push({ kind: 'phantom', worker: worker.name, read, known: newest === undefined ? undefined : showPosition(newest), got: [] })
        continue
      }
      if (set.write.key !== read.key) {
        violations.push({ kind: 'wrong-key', worker: worker.name, read, got: positions.map(showPosition) })
        continue
      }
      if (newest !== undefined && Math.max(...positions) < newest) {
        violations.push({ kind: 'stale', worker: worker.name, read, known: showPosition(newest), got: positions.map(showPosition) })
      }
    }
  }
  return { readsChecked, violations, misses, ambiguousWrites, inconsistencies, latency: summarize(latencies) }
}

/**
 * Every way of matching a worker's writes, in order, to its entries, in
 * order: an acknowledged write takes the next entry (which must name what it
 * wrote); an ambiguous one takes it or none. Forward and backward
 * reachability over (write, entry) pairs; the pairs on a complete path are the options.
 */
function matchWrites(writes: readonly Write[], entries: readonly PlacedEntry[], tagKeys: History['tagKeys']): Matching {
  const n = writes.length
  const m = entries.length
  const fits = (i: number, j: number): boolean => j < m && writeFits(writes[i], entries[j], tagKeys)
  const forward: Set<number>[] = [new Set([0])]
  for (let i = 0; i < n; i++) {
    const reached = new Set<number>()
    for (const j of forward[i]) {
      if (fits(i, j)) reached.add(j + 1)
      if (writes[i].error !== undefined) reached.add(j)
    }
    forward.push(reached)
  }
  const backward: Set<number>[] = new Array(n + 1)
  backward[n] = new Set([m])
  for (let i = n - 1; i >= 0; i--) {
    const reached = new Set<number>()
    for (const j of forward[i]) {
      if (fits(i, j) && backward[i + 1].has(j + 1)) reached.add(j)
      if (writes[i].error !== undefined && backward[i + 1].has(j)) reached.add(j)
    }
    backward[i] = reached
  }
  const options: Set<number>[] = []
  for (let i = 0; i < n; i++) {
    const taken = new Set<number>()
    for (const j of backward[i]) if (fits(i, j) && backward[i + 1].has(j + 1)) taken.add(j)
    options.push(taken)
  }
  return { options, consistent: forward[n].has(m) }
}

function writeFits(write: Write, entry: StreamEntry, tagKeys: History['tagKeys']): boolean {
  if (write.op === 'deleteByTag') {
    const group = new Set(tagKeys[write.tag as string] ?? [])
    return entry.keys.every((key) => group.has(key))
  }
  return entry.keys.length === 1 && entry.keys[0] === write.key
}

/** The entry a received message is: in the epoch the worker was in, or a later one (it may have slept through a restart). */
function findEntry(byPosition: Map<string, PlacedEntry>, message: Received, from: number, epochs: number): PlacedEntry | undefined {
  for (let epoch = from; epoch < epochs; epoch++) {
    const entry = byPosition.get(`${message.origin}@${position(epoch, message.version)}`)
    if (entry !== undefined && sameKeys(entry.keys, message.keys)) return entry
  }
  return undefined
}

/** Whether the key may have had no value at some point from `since` on: a delete, or a later restart that emptied Redis. */
function mayBeAbsentSince(states: Map<Position, Set<State>> | undefined, since: Position, epochs: number): boolean {
  if (Math.floor(since / EPOCH_SPAN) < epochs - 1) return true
  for (const [at, possible] of states ?? []) if (at >= since && possible.has(null)) return true
  return false
}

const sameKeys = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((key, i) => key === b[i])

const compareInstants = (a: Instant, b: Instant): number => (a < b ? -1 : a > b ? 1 : 0)

function summarize(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] }
}
