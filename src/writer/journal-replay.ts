import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { yieldToLoop } from '../tiers/cold/yield.js'
import { decodeRecord, type JournalRecord } from './journal-record.js'

const SEGMENT = /^wal-(\d{8})\.log$/
/** Records decoded between two yields to the event loop. */
const SLICE = 1024

export const segmentName = (id: number): string => `wal-${String(id).padStart(8, '0')}.log`

/** A key's last op in the journal, and the segment that holds it. */
export interface Replayed {
  record: JournalRecord
  segment: number
}

export interface ReplayResult {
  /** Segment ids, oldest first. */
  segments: number[]
  /** Each key's last op, in seq order. */
  last: Replayed[]
  /** The highest seq read; 0 for an empty journal. */
  maxSeq: number
  /** How many of `last` each segment holds. */
  live: Map<number, number>
  /** Records read, every segment. */
  records: number
}

/**
 * Reads every segment (async, decoding in slices that yield), keeping each
 * key's op of the highest seq: the last one read, since segments are read
 * oldest first and each holds its records in seq order. A segment's replay
 * ends at its first record that is not one: a zero length (the zeros a
 * segment is prepared with), a length past the file or a failed CRC (a torn
 * tail), or a seq not above the one before it (a record left past the end of
 * a commit that failed and was written over by a shorter one).
 */
export async function replayJournal(dir: string): Promise<ReplayResult> {
  const segments = (await readdir(dir))
    .map((name) => SEGMENT.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
  const last = new Map<string, Replayed>()
  let maxSeq = 0
  let records = 0
  for (const segment of segments) {
    const buf = await readFile(join(dir, segmentName(segment)))
    let at = 0
    let prior = -Infinity
    for (let n = 1; ; n++) {
      const decoded = decodeRecord(buf, at)
      if (decoded === undefined || decoded.record.seq <= prior) break
      const { record } = decoded
      at = decoded.next
      prior = record.seq
      records++
      if (record.seq > maxSeq) maxSeq = record.seq
      // Records come in seq order: moving a key to the Map's end at each of its ops keeps the Map in seq order, unsorted.
      last.delete(record.key)
      last.set(record.key, { record, segment })
      if (n % SLICE === 0) await yieldToLoop()
    }
  }
  const live = new Map<number, number>(segments.map((segment) => [segment, 0]))
  const ordered: Replayed[] = []
  let n = 0
  for (const one of last.values()) {
    ordered.push(one)
    live.set(one.segment, (live.get(one.segment) as number) + 1)
    if (++n % SLICE === 0) await yieldToLoop()
  }
  return { segments, last: ordered, maxSeq, live, records }
}
