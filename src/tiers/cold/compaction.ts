import type { ColdIndex } from './cold-index.js'
import { FLAG_BARRIER, FLAG_TAGS, FLAG_TOMBSTONE, USER_FLAGS_MASK } from './record-format.js'
import { scanSegment, type ScanSlice, type ScannedRecord } from './segment-scan.js'
import type { Segment, SegmentSet } from './segment-set.js'
import type { ColdSegmentWriter, WriteOp } from './segment-writer.js'
import { yieldToLoop } from './yield.js'

export interface RewriteContext {
  segments: SegmentSet
  index: ColdIndex
  writer: ColdSegmentWriter
  now: () => number
}

/**
 * 'compact': keep every live record (the segment is mostly dead).
 * 'evict': the disk is full; keep only live records read since they were
 * written (region FIFO with reinsertion, as CacheLib Navy and foyer do).
 */
export type RewriteMode = 'compact' | 'evict'

const EMPTY = Buffer.alloc(0)

/**
 * Empties one sealed segment in slices and then deletes it. Records that must
 * stay are copied to the head through the writer, keeping their sequence
 * numbers, and only while the index still points at them (a newer write wins).
 *
 * What may be dropped: a record the index does not point at (something newer
 * shadows it). A tombstone or an expired value only when no older segment
 * exists; otherwise it still hides an older record of its key, so it is
 * carried forward (an expired value as a tombstone). The copies are fsynced
 * before the segment is deleted, whatever the fsync mode.
 *
 * A value's copy keeps its tags; a tombstone has none. A value that leaves
 * is told to the index's `onLeave`: evicted (forgotten once its segment is
 * gone), or expired (dropped, or turned into a tombstone).
 */
export class SegmentRewrite {
  readonly seg: Segment
  readonly mode: RewriteMode
  readonly #ctx: RewriteContext
  #scan: AsyncGenerator<ScanSlice> | undefined
  #evicted: { key: string; offset: number }[] = []
  copiedBytes = 0
  droppedRecords = 0

  constructor(ctx: RewriteContext, seg: Segment, mode: RewriteMode) {
    this.#ctx = ctx
    this.seg = seg
    this.mode = mode
  }

  /** Works through about `budget` bytes of the segment; `done` once it is deleted. */
  async step(budget: number): Promise<{ done: boolean; processed: number }> {
    const { seg } = this
    let processed = 0
    this.#scan ??= scanSegment(seg.fh, seg.size, { maxRecordBytes: seg.size, chunkBytes: Math.min(budget, 512 * 1024) })
    while (processed < budget) {
      if (seg.state === 'dropped') return { done: true, processed }
      const next = await this.#scan.next()
      if (next.done === true) {
        await this.#finish()
        return { done: true, processed }
      }
      const ops: WriteOp[] = []
      for (const r of next.value.records) {
        processed += r.length
        const op = this.#decide(r)
        if (op !== undefined) ops.push(op)
        else this.droppedRecords++
      }
      for (const c of next.value.corrupt) processed += c.length
      if (ops.length > 0) await this.#ctx.writer.submit(ops)
      await yieldToLoop()
    }
    return { done: seg.state === 'dropped', processed }
  }

  #decide(r: ScannedRecord): WriteOp | undefined {
    const { index, segments, now } = this.#ctx
    const h = r.header
    const oldest = segments.isOldest(this.seg)
    if ((h.flags & FLAG_BARRIER) !== 0) return oldest ? undefined : this.#copy(r, h.flags, r.value, false)
    if (!index.pointsAt(r.key, this.seg.id, r.offset)) return undefined
    const tombstone = (h.flags & FLAG_TOMBSTONE) !== 0
    if (tombstone || (h.expiresAt !== 0 && h.expiresAt <= now())) {
      if (oldest) {
        index.remove(r.key, 'expired')
        return undefined
      }
      // An expired value goes now (its tags with it), whether or not the tombstone lands.
      if (!tombstone) index.leaving(r.key, 'expired')
      return this.#copy(r, FLAG_TOMBSTONE | (h.flags & USER_FLAGS_MASK), EMPTY, true)
    }
    if (this.mode === 'evict' && !index.isAccessed(r.key)) {
      // Still readable until the file is gone, and still on disk until then,
      // so delete() keeps writing tombstones for it. Forgotten after the drop.
      this.#evicted.push({ key: r.key, offset: r.offset })
      return undefined
    }
    return this.#copy(r, h.flags, r.value, true)
  }

  #copy(r: ScannedRecord, flags: number, value: Buffer, conditional: boolean): WriteOp {
    this.copiedBytes += r.length
    const op: WriteOp = {
      key: r.key,
      keyBytes: Buffer.from(r.key, 'utf8'),
      value,
      expiresAt: flags & FLAG_TOMBSTONE ? 0 : r.header.expiresAt,
      flags,
      seq: r.header.seq,
      from: conditional ? { seg: this.seg.id, offset: r.offset } : undefined,
      reinsert: this.mode === 'evict',
    }
    // A copy of its own: the scan's view would keep the whole read window alive in the hint entries.
    if ((flags & FLAG_TAGS) !== 0) op.tags = Buffer.from(r.tags as Buffer)
    return op
  }

  async #finish(): Promise<void> {
    const { writer, segments } = this.#ctx
    // The copies must be durable before their sources disappear, whatever the fsync mode.
    await writer.sync()
    if (this.seg.state === 'dropped') return
    await segments.drop(this.seg)
    writer.markDirDirty()
    for (let i = 0; i < this.#evicted.length; i++) {
      this.#ctx.index.forgetAt(this.#evicted[i].key, this.seg.id, this.#evicted[i].offset)
      if (i % 4096 === 4095) await yieldToLoop()
    }
  }

  /** Stops early (clear, close, a failed write); the segment stays as it is. */
  async abandon(): Promise<void> {
    await this.#scan?.return(undefined)
  }
}
