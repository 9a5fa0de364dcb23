import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { yieldToLoop } from '../tiers/cold/yield.js'
import { decodeRecord, type JournalRecord } from './journal-record.js'

const SEGMENT = /^wal-(\d{8})\.log$/
/** Records decoded between two yields to the event loop. */
const SLICE = 4096

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
}

/**
 * Reads every segment (async, decoding in slices that yield), keeping each
 * key's op of the highest seq. A segment's replay ends at its first record
 * whose length runs past the file or whose CRC fails: a torn tail.
 */
export async function replayJournal(dir: string): Promise<ReplayResult> {
  const segments = (await readdir(dir))
    .map((name) => SEGMENT.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
  const last = new Map<string, Replayed>()
  let maxSeq = 0
  for (const segment of segments) {
    const buf = await readFile(join(dir, segmentName(segment)))
    let at = 0
    for (let n = 1; ; n++) {
      const decoded = decodeRecord(buf, at)
      if (decoded === undefined) break
      const { record } = decoded
      at = decoded.next
      if (record.seq > maxSeq) maxSeq = record.seq
      const seen = last.get(record.key)
      if (seen === undefined || seen.record.seq < record.seq) last.set(record.key, { record, segment })
      if (n % SLICE === 0) await yieldToLoop()
    }
  }
  return { segments, last: [...last.values()].sort((a, b) => a.record.seq - b.record.seq), maxSeq }
}
