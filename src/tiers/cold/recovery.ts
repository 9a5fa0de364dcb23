import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CacheError } from '../../errors.js'
import type { ColdIndex } from './cold-index.js'
import { readEarlierHint, readHint, type HintEntry } from './hint-file.js'
import { FLAG_BARRIER } from './record-format.js'
import { kindOf, NotRegularFileError } from './regular-file.js'
import { scanSegment } from './segment-scan.js'
import { hintFile, type Segment, type SegmentSet } from './segment-set.js'
import { unlinkQuiet } from '../../files/unlink-quiet.js'
import { decodeTags } from './tag-codec.js'
import { yieldToLoop } from './yield.js'

export interface RecoveryContext {
  segments: SegmentSet
  index: ColdIndex
  segmentBytes: number
  report(error: CacheError): void
}

export interface RecoveryResult {
  maxSeq: number
  corruptRecords: number
  /**
   * The newest segment, when it has room to take more. Segments whose hint
   * was missing or stale carry their `records` so the hint can be rewritten.
   */
  resume: Segment | undefined
  /**
   * The tags of every key whose newest record is a tagged value (expired ones
   * included: the caller judges expiry). Keys with equal tag lists share one
   * array (within the bounds of MAX_INTERNED). Empty when no tagged record
   * is live.
   */
  tags: Map<string, readonly string[]>
  /**
   * Keys whose newest record was lost: the segment's hint lists it, but the
   * segment no longer holds it whole (cut short, or corrupt). They are out
   * of the index, so no older record of theirs is read; the caller writes a
   * tombstone for each, so that no later open reads one either.
   */
  lost: string[]
}

/**
 * While decoding, keys with equal tag lists share one array and equal tags
 * one string, so that what recovery keeps is mostly references: less memory,
 * and less for the young generation's collections to copy. Bounded, as the
 * maps that find them live until recovery ends: lists (and tags) of at most
 * INTERN_BYTES bytes, at most MAX_INTERNED of each; past that, decoded per key.
 */
const MAX_INTERNED = 16_384
const INTERN_BYTES = 256
/** Tag lists decoded between two yields, within a slice of hint entries or records: they cost as much as the rest of an entry. */
const TAG_SLICE = 512

/**
 * Rebuilds the index from the segment files, oldest first: the highest
 * sequence number of a key wins, whatever file holds it (compaction copies
 * keep theirs). A segment with a valid hint is read from the hint; others are
 * scanned. Bad records are reported (E_CORRUPT) and skipped; a torn tail of
 * the newest segment is cut off so new records follow the last good one.
 * Tags follow the index: the newest record of a key decides them (a
 * tombstone or an untagged value leaves the key without). Every slice
 * yields to the event loop. A segment or hint name taken by something other
 * than a regular file (a directory, a symlink, a FIFO) is reported (E_IO),
 * left alone and not read: the store opens without it.
 */
export async function recover(ctx: RecoveryContext): Promise<RecoveryResult> {
  const { segments, index } = ctx
  const ids = await segments.listIds()
  const oddHints = await removeLeftovers(segments.dir, new Set(ids), ctx.report)
  const opened = await openSegments(segments, ids, ctx.report)
  let maxSeq = 0
  let barrierSeq = 0
  let corruptRecords = 0
  let last: Segment | undefined
  const lostSeqs = new Map<string, number>()
  /** Keys a damaged record's header names, with where it lay: its sequence number is checked by nothing. */
  const suspected = new Map<string, { seg: number; offset: number }>()
  const tags = new Map<string, readonly string[]>()
  const lists = new Map<string, readonly string[]>()
  const strings = new Map<string, string>()
  const intern = (tag: string): string => {
    const seen = strings.get(tag)
    if (seen !== undefined) return seen
    if (strings.size < MAX_INTERNED && tag.length <= INTERN_BYTES) strings.set(tag, tag)
    return tag
  }
  let decoded = 0
  const decode = (block: Buffer): readonly string[] | undefined => {
    decoded++
    if (block.length > INTERN_BYTES) return decodeTags(block, 0, block.length, intern)
    const id = block.toString('latin1')
    const seen = lists.get(id)
    if (seen !== undefined) return seen
    const list = decodeTags(block, 0, block.length, intern)
    if (list !== undefined && lists.size < MAX_INTERNED) lists.set(id, list)
    return list
  }

  for (const [i, seg] of opened.entries()) {
    const id = seg.id
    const isLast = i === opened.length - 1
    const hintPath = join(segments.dir, hintFile(id))
    const hint = oddHints.has(id) ? undefined : await readHint(hintPath, seg.size)
    // A whole hint of another size tells what the segment held before it was cut short or damaged.
    const earlier = hint !== undefined || oddHints.has(id) ? undefined : await readEarlierHint(hintPath, id)
    const found = earlier === undefined ? undefined : new Map<number, number>()
    const damaged: { offset: number; length: number }[] = []
    // Kept for the newest segment (it may take more records) and to rewrite missing hints.
    const records: HintEntry[] | undefined = isLast || hint === undefined ? [] : undefined
    // `e.tags` may be a view into a large buffer (a hint file, a scan window): what is kept is a copy.
    const apply = (e: HintEntry): void => {
      if (e.seq > maxSeq) maxSeq = e.seq
      records?.push(e.tags === undefined ? e : { ...e, tags: Buffer.from(e.tags) })
      if ((e.flags & FLAG_BARRIER) !== 0) {
        if (e.seq > barrierSeq) barrierSeq = e.seq
        return
      }
      if (index.seqOf(e.key) >= e.seq) return
      index.set(e.key, { seg: id, offset: e.offset, length: e.length, expiresAt: e.expiresAt, seq: e.seq, flags: e.flags })
      const list = e.tags === undefined ? undefined : decode(e.tags)
      if (list !== undefined) tags.set(e.key, list)
      else if (tags.size !== 0) tags.delete(e.key)
    }

    if (hint !== undefined) {
      for (const slice of hint) {
        for (const e of slice) {
          apply(e)
          if (decoded >= TAG_SLICE) {
            decoded = 0
            await yieldToLoop()
          }
        }
        await yieldToLoop()
      }
    } else {
      for await (const slice of scanSegment(seg.fh, seg.size, { maxRecordBytes: seg.size })) {
        for (const r of slice.records) {
          const h = r.header
          const e: HintEntry = { key: r.key, offset: r.offset, length: r.length, expiresAt: h.expiresAt, seq: h.seq, flags: h.flags }
          if (r.tags !== undefined) e.tags = r.tags
          found?.set(r.offset, h.seq)
          apply(e)
          if (decoded >= TAG_SLICE) {
            decoded = 0
            await yieldToLoop()
          }
        }
        for (const c of slice.corrupt) {
          corruptRecords++
          damaged.push(c)
          if (c.atEnd && isLast) {
            await seg.fh.truncate(c.offset)
            seg.size = c.offset
            ctx.report(new CacheError('E_CORRUPT', `${seg.path}: torn tail of ${c.length} bytes at offset ${c.offset} cut off`))
          } else {
            ctx.report(new CacheError('E_CORRUPT', `${seg.path}: ${c.length} unreadable bytes at offset ${c.offset} skipped`))
            // The key its header names may be the damaged record's: none of its older records may stand in for it.
            for (const { key } of c.suspects) if (!suspected.has(key)) suspected.set(key, { seg: id, offset: c.offset })
          }
        }
        await yieldToLoop()
      }
    }
    if (earlier !== undefined) {
      for (const slice of earlier) {
        for (const e of slice) {
          if ((e.flags & FLAG_BARRIER) !== 0 || found?.get(e.offset) === e.seq) continue
          if (e.seq > (lostSeqs.get(e.key) ?? 0)) lostSeqs.set(e.key, e.seq)
          // Inside bytes already reported unreadable: that report covers it.
          if (damaged.some((d) => e.offset >= d.offset && e.offset < d.offset + d.length)) continue
          corruptRecords++
          ctx.report(
            new CacheError(
              'E_CORRUPT',
              `${seg.path}: the record of key ${JSON.stringify(e.key)} at offset ${e.offset}, listed in its hint, is gone or damaged`,
            ),
          )
        }
        await yieldToLoop()
      }
    }
    seg.records = records
    if (isLast) last = seg
  }

  // A lost record hides every older record of its key, unless a newer record survived.
  const lost = new Set<string>()
  // A suspect stands only behind a record of its key written later to the log with a higher number; anything older goes.
  for (const [key, at] of suspected) {
    const e = index.get(key)
    if (e === undefined || e.seg > at.seg || (e.seg === at.seg && e.offset > at.offset)) continue
    if (e.seq <= barrierSeq) continue
    index.remove(key)
    tags.delete(key)
    lost.add(key)
  }
  for (const [key, seq] of lostSeqs) {
    // A record of the same sequence number in the index is the very one, read whole after all.
    if (seq <= barrierSeq || index.seqOf(key) >= seq) continue
    index.remove(key)
    tags.delete(key)
    lost.add(key)
  }

  // A clear barrier hides every record older than it; the files it left are gone or going.
  if (barrierSeq > 0) {
    let n = 0
    for (const key of index.keys()) {
      if (index.seqOf(key) < barrierSeq) {
        index.remove(key)
        tags.delete(key)
      }
      if (++n % 4096 === 0) await yieldToLoop()
    }
  }

  const resume = last !== undefined && last.size < ctx.segmentBytes ? last : undefined
  return { maxSeq, corruptRecords, resume, tags, lost: [...lost] }
}

/** The segment files among `ids`; names taken by something else are reported and reserved. */
async function openSegments(segments: SegmentSet, ids: readonly number[], report: (error: CacheError) => void): Promise<Segment[]> {
  const opened: Segment[] = []
  for (const id of ids) {
    try {
      opened.push(await segments.openExisting(id))
    } catch (e) {
      if (!(e instanceof NotRegularFileError)) throw e
      report(skipped(e))
      segments.reserve(id)
    }
  }
  return opened
}

/**
 * Removes half-written hint files and hints whose segment is gone, whatever
 * they are (a FIFO left under the temporary name would block the next hint
 * write); what cannot be removed (a directory) is reported. Resolves with the
 * ids of live segments whose hint name is taken by something other than a
 * regular file: reported, left alone, never read.
 */
async function removeLeftovers(dir: string, ids: Set<number>, report: (error: CacheError) => void): Promise<Set<number>> {
  const odd = new Set<number>()
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const hint = /^seg-(\d{8})\.hint$/.exec(entry.name)
    if (entry.name.endsWith('.hint.tmp') || (hint && !ids.has(Number(hint[1])))) {
      await unlinkQuiet(path).catch((e: unknown) => report(new CacheError('E_IO', `cannot remove ${path}: ${(e as Error).message}`, { cause: e })))
    } else if (hint && !entry.isFile()) {
      report(skipped(new NotRegularFileError(path, kindOf(entry))))
      odd.add(Number(hint[1]))
    }
  }
  return odd
}

const skipped = (e: NotRegularFileError): CacheError =>
  new CacheError('E_IO', `${e.path} is ${e.kind}, not a regular file: left alone and not read`, { cause: e })
