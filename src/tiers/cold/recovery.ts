import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CacheError } from '../../errors.js'
import type { ColdIndex } from './cold-index.js'
import { readHint, type HintEntry } from './hint-file.js'
import { FLAG_BARRIER } from './record-format.js'
import { scanSegment } from './segment-scan.js'
import { hintFile, unlinkQuiet, type Segment, type SegmentSet } from './segment-set.js'
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
}

/**
 * Rebuilds the index from the segment files, oldest first: the highest
 * sequence number of a key wins, whatever file holds it (compaction copies
 * keep theirs). A segment with a valid hint is read from the hint; others are
 * scanned. Bad records are reported (E_CORRUPT) and skipped; a torn tail of
 * the newest segment is cut off so new records follow the last good one.
 * Every slice yields to the event loop.
 */
export async function recover(ctx: RecoveryContext): Promise<RecoveryResult> {
  const { segments, index } = ctx
  const ids = await segments.listIds()
  await removeLeftovers(segments.dir, new Set(ids))
  let maxSeq = 0
  let barrierSeq = 0
  let corruptRecords = 0
  let last: Segment | undefined

  for (const [i, id] of ids.entries()) {
    const seg = await segments.openExisting(id)
    const isLast = i === ids.length - 1
    const hint = await readHint(join(segments.dir, hintFile(id)), seg.size)
    // Kept for the newest segment (it may take more records) and to rewrite missing hints.
    const records: HintEntry[] | undefined = isLast || hint === undefined ? [] : undefined
    const apply = (e: HintEntry): void => {
      if (e.seq > maxSeq) maxSeq = e.seq
      records?.push(e)
      if ((e.flags & FLAG_BARRIER) !== 0) {
        if (e.seq > barrierSeq) barrierSeq = e.seq
        return
      }
      if (index.seqOf(e.key) >= e.seq) return
      index.set(e.key, { seg: id, offset: e.offset, length: e.length, expiresAt: e.expiresAt, seq: e.seq, flags: e.flags })
    }

    if (hint !== undefined) {
      for (const slice of hint) {
        for (const e of slice) apply(e)
        await yieldToLoop()
      }
    } else {
      for await (const slice of scanSegment(seg.fh, seg.size, { maxRecordBytes: seg.size })) {
        for (const r of slice.records) {
          const h = r.header
          apply({ key: r.key, offset: r.offset, length: r.length, expiresAt: h.expiresAt, seq: h.seq, flags: h.flags })
        }
        for (const c of slice.corrupt) {
          corruptRecords++
          if (c.atEnd && isLast) {
            await seg.fh.truncate(c.offset)
            seg.size = c.offset
            ctx.report(new CacheError('E_CORRUPT', `${seg.path}: torn tail of ${c.length} bytes at offset ${c.offset} cut off`))
          } else {
            ctx.report(new CacheError('E_CORRUPT', `${seg.path}: ${c.length} unreadable bytes at offset ${c.offset} skipped`))
          }
        }
        await yieldToLoop()
      }
    }
    seg.records = records
    if (isLast) last = seg
  }

  // A clear barrier hides every record older than it; the files it left are gone or going.
  if (barrierSeq > 0) {
    let n = 0
    for (const key of index.keys()) {
      if (index.seqOf(key) < barrierSeq) index.remove(key)
      if (++n % 4096 === 0) await yieldToLoop()
    }
  }

  const resume = last !== undefined && last.size < ctx.segmentBytes ? last : undefined
  return { maxSeq, corruptRecords, resume }
}

/** Half-written hint files and hints whose segment is gone. */
async function removeLeftovers(dir: string, ids: Set<number>): Promise<void> {
  for (const name of await readdir(dir)) {
    const hint = /^seg-(\d{8})\.hint$/.exec(name)
    if (name.endsWith('.hint.tmp') || (hint && !ids.has(Number(hint[1])))) await unlinkQuiet(join(dir, name))
  }
}
