import { type FileHandle, open, stat } from 'node:fs/promises'
import { readEarlierHint, readHint, type HintEntry } from '../tiers/cold/hint-file.js'
import { FLAG_BARRIER, FLAG_TOMBSTONE } from '../tiers/cold/record-format.js'
import { scanSegment } from '../tiers/cold/segment-scan.js'
import { decodeTags } from '../tiers/cold/tag-codec.js'
import { describeFsError } from './cli-error.js'
import { hintPath, readStoreDir, type StoreDir, type StoreFile } from './store-dir.js'

/** Bytes of a segment that hold no valid record. */
interface CorruptRegion {
  offset: number
  length: number
  /** Runs to the end of the newest segment: a write cut short by a crash (recovery cuts it off). */
  tornTail: boolean
  /** Runs to the end of an older segment (recovery skips it). */
  atEnd: boolean
}

/**
 * 'none': no hint file (opening scans the segment). 'stale': present but torn
 * or for another size (opening ignores it and scans). 'ok': valid and lists
 * exactly the records the scan finds. 'mismatch': valid, so opening trusts it,
 * yet it disagrees with the segment.
 */
type HintStatus = 'none' | 'stale' | 'ok' | 'mismatch'

interface SegmentReport {
  id: number
  file: string
  size: number
  /** Bytes of records that hold a key's readable value: its newest record, not a tombstone, not expired, not behind a clear. */
  live: number
  /** Everything else: shadowed, deleted, expired or cleared records, tombstones, barriers, corrupt bytes. */
  dead: number
  /** Live values (as `stats().entries` counts once compaction has found the expired ones). */
  entries: number
  /** Of those, the ones stored with tags. */
  tagged: number
  /** Records that pass their CRC, of every kind. */
  records: number
  tombstones: number
  /** Clear barriers. */
  barriers: number
  corrupt: CorruptRegion[]
  /** Records that a whole hint of another size lists and the segment no longer holds whole (it was cut short or damaged). */
  lost: number
  hint: HintStatus
}

export interface StoreReport {
  dir: string
  /** The clock expiry was judged by (ms since epoch). */
  now: number
  lock: StoreDir['lock']
  segments: SegmentReport[]
  /** Live entries per tag, most used first: what `deleteByTag` would find after opening. */
  tags: Record<string, number>
  totals: {
    segments: number
    size: number
    live: number
    dead: number
    entries: number
    tagged: number
    records: number
    tombstones: number
    barriers: number
    corrupt: number
    hintBytes: number
  }
}

/** The newest record seen so far for one key. */
interface Newest {
  seq: number
  seg: SegmentReport
  length: number
  flags: number
  expiresAt: number
  tags: string[] | undefined
}

/**
 * Reads a store without opening it (no lock, no writes, no recovery): scans
 * every record of every segment, oldest first, and rebuilds what recovery
 * would put in the index: per key, the record with the highest sequence
 * number wins (on a tie, the older file, as recovery keeps the first it
 * applies); records older than the newest clear barrier are gone.
 */
export async function scanStore(dir: string, now: number): Promise<StoreReport> {
  const store = await readStoreDir(dir)
  const newest = new Map<string, Newest>()
  const segments: SegmentReport[] = []
  let barrierSeq = 0
  let hintBytes = 0

  for (const [i, file] of store.segments.entries()) {
    const isNewest = i === store.segments.length - 1
    const report = await scanOne(file, isNewest, dir, (r, seg) => {
      if ((r.flags & FLAG_BARRIER) !== 0) {
        barrierSeq = Math.max(barrierSeq, r.seq)
        return
      }
      const seen = newest.get(r.key)
      if (seen === undefined || r.seq > seen.seq) newest.set(r.key, { seq: r.seq, seg, length: r.length, flags: r.flags, expiresAt: r.expiresAt, tags: r.tags })
    })
    hintBytes += report.hintBytes
    segments.push(report.segment)
  }

  const perTag = new Map<string, number>()
  for (const n of newest.values()) {
    if (n.seq < barrierSeq || (n.flags & FLAG_TOMBSTONE) !== 0) continue
    if (n.expiresAt !== 0 && n.expiresAt <= now) continue
    n.seg.live += n.length
    n.seg.entries++
    if (n.tags === undefined) continue
    n.seg.tagged++
    for (const tag of new Set(n.tags)) perTag.set(tag, (perTag.get(tag) ?? 0) + 1)
  }
  for (const s of segments) s.dead = s.size - s.live
  const tags = Object.fromEntries([...perTag].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)))

  const sum = (f: (s: SegmentReport) => number): number => segments.reduce((n, s) => n + f(s), 0)
  return {
    dir,
    now,
    lock: store.lock,
    segments,
    tags,
    totals: {
      segments: segments.length,
      size: sum((s) => s.size),
      live: sum((s) => s.live),
      dead: sum((s) => s.dead),
      entries: sum((s) => s.entries),
      tagged: sum((s) => s.tagged),
      records: sum((s) => s.records),
      tombstones: sum((s) => s.tombstones),
      barriers: sum((s) => s.barriers),
      corrupt: sum((s) => s.corrupt.length),
      hintBytes,
    },
  }
}

type Seen = Omit<Newest, 'seg'> & { key: string }

/** Scans one segment, calling `onRecord` for each valid record in file order, and checks its hint against the scan. */
async function scanOne(
  file: StoreFile,
  isNewest: boolean,
  dir: string,
  onRecord: (r: Seen, segment: SegmentReport) => void,
): Promise<{ segment: SegmentReport; hintBytes: number }> {
  let fh: FileHandle
  try {
    fh = await open(file.path, 'r')
  } catch (e) {
    throw describeFsError(e, file.path)
  }
  try {
    const { size } = await fh.stat()
    const segment: SegmentReport = {
      id: file.id,
      file: file.name,
      size,
      live: 0,
      dead: 0,
      entries: 0,
      tagged: 0,
      records: 0,
      tombstones: 0,
      barriers: 0,
      corrupt: [],
      lost: 0,
      hint: 'none',
    }
    const hint = await checkableHint(hintPath(dir, file.id), file.id, size)
    const hinted = hint.entries === undefined ? undefined : new Map(hint.entries.map((e) => [e.offset, e]))
    let matched = 0
    const found = new Map<number, number>()
    // The engine's own scanner, with recovery's bound on a record's length.
    for await (const slice of scanSegment(fh, size, { maxRecordBytes: size })) {
      for (const r of slice.records) {
        const h = r.header
        segment.records++
        if ((h.flags & FLAG_TOMBSTONE) !== 0) segment.tombstones++
        if ((h.flags & FLAG_BARRIER) !== 0) segment.barriers++
        const e = hinted?.get(r.offset)
        const sameTags = e?.tags === undefined ? r.tags === undefined : r.tags !== undefined && e.tags.equals(r.tags)
        found.set(r.offset, h.seq)
        if (e !== undefined && e.key === r.key && e.length === r.length && e.seq === h.seq && e.flags === h.flags && e.expiresAt === h.expiresAt && sameTags)
          matched++
        const tags = r.tags === undefined ? undefined : decodeTags(r.tags)
        onRecord({ key: r.key, seq: h.seq, length: r.length, flags: h.flags, expiresAt: h.expiresAt, tags }, segment)
      }
      for (const c of slice.corrupt) {
        segment.corrupt.push({ offset: c.offset, length: c.length, tornTail: c.atEnd && isNewest, atEnd: c.atEnd })
      }
    }
    if (hinted !== undefined) segment.hint = matched === segment.records && matched === hinted.size ? 'ok' : 'mismatch'
    else if (hint.present) segment.hint = 'stale'
    for (const e of hint.earlier ?? []) if ((e.flags & FLAG_BARRIER) === 0 && found.get(e.offset) !== e.seq) segment.lost++
    return { segment, hintBytes: hint.bytes }
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === undefined ? e : describeFsError(e, file.path)
  } finally {
    await fh.close()
  }
}

/** The hint's entries when opening would trust it (or those of a whole hint of another size), and its size on disk. */
async function checkableHint(
  path: string,
  segmentId: number,
  segmentSize: number,
): Promise<{ present: boolean; entries: HintEntry[] | undefined; earlier: HintEntry[] | undefined; bytes: number }> {
  let bytes: number
  try {
    bytes = (await stat(path)).size
  } catch {
    return { present: false, entries: undefined, earlier: undefined, bytes: 0 }
  }
  const slices = await readHint(path, segmentSize)
  // A whole hint of another size: what the segment held when it was written, as opening reads it.
  const earlier = slices === undefined ? await readEarlierHint(path, segmentId) : undefined
  return { present: true, entries: slices?.flat(), earlier: earlier?.flat(), bytes }
}
