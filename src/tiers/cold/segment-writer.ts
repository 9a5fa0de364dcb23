import type { FileHandle } from 'node:fs/promises'
import { CacheError } from '../../errors.js'
import type { HintEntry } from './hint-file.js'
import type { FsyncMode } from './options.js'
import { bodyLength, encodeRecord, recordLength } from './record-format.js'
import type { Segment, SegmentSet } from './segment-set.js'

export interface WriteOp {
  key: string
  keyBytes: Buffer
  value: Uint8Array
  expiresAt: number
  /** Record flags; FLAG_TAGS exactly when `tags` is given. */
  flags: number
  /** The encoded tag list (tag-codec.ts); kept by the segment's hint entries, so not a view into a large buffer. */
  tags?: Buffer
  /** Copies keep the sequence number of the record they copy. */
  seq?: number
  /** A copy is written only while the index still points at its source. */
  from?: { seg: number; offset: number }
  /** Start a fresh segment before this record (the clear barrier). */
  roll?: boolean
  /** An eviction's reinsertion: the copy starts unread (compaction keeps the mark). */
  reinsert?: boolean
}

export interface WrittenRecord extends HintEntry {
  seg: number
  op: WriteOp
}

export interface WriterHooks {
  pointsAt(key: string, seg: number, offset: number): boolean
  /** Called before writing `bytes`: keeps disk within its hard bound. */
  makeRoom(bytes: number): Promise<void>
  /**
   * Part of a batch is on disk (and fsynced when that was asked for): `ops[i]`
   * as the record `hints[i]` in segment `seg`. Called for each segment the
   * batch wrote to, in order, after the whole batch is written.
   */
  applied(seg: number, ops: readonly WriteOp[], hints: readonly HintEntry[]): void
  /** A request with a non-zero tag is about to settle (resolve or reject); requests settle in the order they were submitted. */
  settled(tag: number): void
  /** A segment the writer has left; it takes no more records. */
  sealed(seg: Segment): void
  failed(error: CacheError): void
}

export interface WriterOptions {
  segmentBytes: number
  fsync: FsyncMode
  nextSeq: number
  maxBatchBytes: number
}

interface Request {
  ops: WriteOp[]
  sync: boolean
  bytes: number
  /** Some op is a copy (has `from`): only then does planning track the keys seen. */
  copies: boolean
  /** Passed to `settled`; 0: not told. */
  tag: number
  /** Collects the records written for a caller that asked for them (clear); undefined for the rest. */
  records: WrittenRecord[] | undefined
  resolve: (records: WrittenRecord[] | undefined) => void
  reject: (error: unknown) => void
}

const opLength = (op: WriteOp): number => recordLength(op.keyBytes.length, bodyLength(op.value.length, op.tags))

/**
 * The records of a batch that go to one segment, as parallel arrays (no
 * object per record): the op, its sequence number and length, and the
 * request it came from. `hints` is filled once the chunk is on disk.
 */
interface Chunk {
  seg: Segment | undefined
  start: number
  bytes: number
  ops: WriteOp[]
  seqs: number[]
  lengths: number[]
  reqs: Request[]
  hints: HintEntry[]
}

const newChunk = (seg: Segment | undefined, start: number): Chunk => ({ seg, start, bytes: 0, ops: [], seqs: [], lengths: [], reqs: [], hints: [] })

/** A write buffer up to this size is kept and reused by the next batch; larger ones are allocated for their batch. */
const REUSED_BUFFER_BYTES = 4 << 20

/**
 * The one writer of a store: group commit. Requests queue up while a batch is
 * on disk; the next batch takes all of them, so concurrent callers share one
 * write and, when asked, one fsync. A request is resolved only after its batch
 * is written (and fsynced under 'always' or when it asked for sync).
 */
export class ColdSegmentWriter {
  readonly #segments: SegmentSet
  readonly #opts: WriterOptions
  readonly #hooks: WriterHooks
  #queue: Request[] = []
  /** Requests before this index in #queue are taken: no O(n) shift per batch. */
  #head = 0
  #running = false
  /** The reused write buffer (one batch is written at a time). */
  #buf: Buffer | undefined
  #idle: (() => void)[] = []
  #active: Segment
  #seq: number
  #dirty = new Set<Segment>()
  #dirDirty = true
  #mustRoll = false
  writes = 0
  syncs = 0

  constructor(segments: SegmentSet, active: Segment, opts: WriterOptions, hooks: WriterHooks) {
    this.#segments = segments
    this.#active = active
    this.#opts = opts
    this.#hooks = hooks
    this.#seq = opts.nextSeq
  }

  get active(): Segment {
    return this.#active
  }

  markDirDirty(): void {
    this.#dirDirty = true
  }

  /**
   * Queues `ops`; resolves once they are written (and fsynced under 'always'
   * or when `sync`). A non-zero `tag` is handed to the `settled` hook just
   * before the promise settles.
   */
  submit(ops: WriteOp[], sync = false, tag = 0): Promise<void> {
    return this.#enqueue(ops, sync, tag, false) as Promise<never>
  }

  /** As `submit`, resolving with the records written (in op order; copies found stale are left out). */
  submitForRecords(ops: WriteOp[]): Promise<WrittenRecord[]> {
    return this.#enqueue(ops, false, 0, true) as Promise<WrittenRecord[]>
  }

  /** Makes everything submitted so far durable: data, then the directory. */
  sync(): Promise<void> {
    return this.submit([], true)
  }

  #enqueue(ops: WriteOp[], sync: boolean, tag: number, wantRecords: boolean): Promise<WrittenRecord[] | undefined> {
    let bytes = 0
    let copies = false
    for (const op of ops) {
      bytes += opLength(op)
      if (op.from !== undefined) copies = true
    }
    // One promise per request: its functions go in the request, no wrapper.
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, sync, bytes, copies, tag, records: wantRecords ? [] : undefined, resolve, reject })
      if (!this.#running) {
        this.#running = true
        // A microtask, not a timer: every request made in the same synchronous
        // run joins the first batch; later ones join the batch after it.
        queueMicrotask(() => void this.#drain())
      }
    })
  }

  whenIdle(): Promise<void> {
    return this.#running ? new Promise((resolve) => this.#idle.push(resolve)) : Promise.resolve()
  }

  async #drain(): Promise<void> {
    while (this.#head < this.#queue.length) {
      const q = this.#queue
      const first = this.#head
      let end = first + 1
      let bytes = q[first].bytes
      while (end < q.length && bytes + q[end].bytes <= this.#opts.maxBatchBytes) bytes += q[end++].bytes
      const batch = q.slice(first, end)
      // Taken requests leave the array once they are half of it: no O(n) splice per batch, bounded garbage.
      if (end === q.length) this.#queue = []
      else if (end > q.length >>> 1) this.#queue = q.slice(end)
      this.#head = this.#queue === q ? end : 0
      await this.#commit(batch)
    }
    this.#queue = []
    this.#head = 0
    this.#running = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #commit(batch: Request[]): Promise<void> {
    const chunks = this.#plan(batch)
    let bytes = 0
    for (const c of chunks) bytes += c.bytes
    const wantSync = batch.some((r) => r.sync) || (this.#opts.fsync === 'always' && bytes > 0)
    const created: Segment[] = []
    try {
      if (bytes > 0) {
        for (const c of chunks) {
          if (c.seg === undefined) {
            c.seg = await this.#segments.create(this.#segments.maxId + 1)
            created.push(c.seg)
            this.#dirDirty = true
          }
        }
        await this.#hooks.makeRoom(bytes)
        for (const c of chunks) await this.#writeChunk(c)
      }
      if (wantSync) await this.#syncNow()
    } catch (e) {
      await this.#undo(chunks, created)
      const error = new CacheError('E_IO', `cold write in ${this.#segments.dir} failed: ${(e as Error).message}`, { cause: e })
      this.#hooks.failed(error)
      for (const r of batch) {
        if (r.tag !== 0) this.#hooks.settled(r.tag)
        r.reject(error)
      }
      return
    }
    this.#finish(chunks)
    for (const c of chunks) this.#hooks.applied((c.seg as Segment).id, c.ops, c.hints)
    for (const r of batch) {
      if (r.tag !== 0) this.#hooks.settled(r.tag)
      r.resolve(r.records)
    }
  }

  #plan(batch: Request[]): Chunk[] {
    const chunks: Chunk[] = []
    let cur = this.#mustRoll ? newChunk(undefined, 0) : newChunk(this.#active, this.#active.size)
    // Keys seen so far, only when some op is a copy: a copy after a write of its key in the same batch is stale.
    const seen = batch.some((r) => r.copies) ? new Set<string>() : undefined
    for (const req of batch) {
      for (const op of req.ops) {
        if (op.from && (seen!.has(op.key) || !this.#hooks.pointsAt(op.key, op.from.seg, op.from.offset))) continue
        const length = opLength(op)
        const used = cur.start + cur.bytes
        if (used > 0 && (op.roll || used + length > this.#opts.segmentBytes)) {
          if (cur.ops.length > 0) chunks.push(cur)
          cur = newChunk(undefined, 0)
        }
        cur.ops.push(op)
        cur.seqs.push(op.seq ?? this.#seq++)
        cur.lengths.push(length)
        cur.reqs.push(req)
        cur.bytes += length
        seen?.add(op.key)
      }
    }
    if (cur.ops.length > 0) chunks.push(cur)
    return chunks
  }

  async #writeChunk(c: Chunk): Promise<void> {
    const seg = c.seg as Segment
    // Reused across batches (only one is written at a time, and the kernel has
    // copied the bytes once the write resolves): no fresh megabytes, and no
    // page faults on them, per batch.
    let buf: Buffer
    if (c.bytes <= REUSED_BUFFER_BYTES) {
      if (this.#buf === undefined || this.#buf.length < c.bytes) this.#buf = Buffer.allocUnsafe(Math.min(REUSED_BUFFER_BYTES, Math.max(c.bytes, 64 << 10)))
      buf = this.#buf
    } else {
      buf = Buffer.allocUnsafe(c.bytes)
    }
    const { ops, seqs } = c
    let at = 0
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]
      at += encodeRecord(buf, at, op.keyBytes, op.value, op.flags, op.expiresAt, seqs[i], op.tags)
    }
    this.#dirty.add(seg)
    await writeFully(seg.fh, buf, c.bytes, c.start)
    seg.size = c.start + c.bytes
    this.writes++
  }

  async #syncNow(): Promise<void> {
    for (const seg of [...this.#dirty]) {
      if (seg.state !== 'dropped') await seg.fh.datasync()
      this.#dirty.delete(seg)
    }
    if (this.#dirDirty) {
      this.#dirDirty = false
      try {
        await this.#segments.syncDir()
      } catch (e) {
        this.#dirDirty = true
        throw e
      }
    }
    this.syncs++
  }

  /** Takes a failed batch back off the disk, so nothing unacknowledged is replayed. */
  async #undo(chunks: Chunk[], created: Segment[]): Promise<void> {
    for (const seg of created) await this.#segments.drop(seg).catch(() => undefined)
    for (const c of chunks) {
      if (c.seg === undefined || created.includes(c.seg)) continue
      try {
        await c.seg.fh.truncate(c.start)
        c.seg.size = c.start
      } catch {
        // Cannot cut it back: leave the tail as a torn region and write on in a new segment.
        c.seg.size = Math.max(c.seg.size, c.start + c.bytes)
        this.#mustRoll = true
      }
    }
  }

  /** Hint entries for the written chunks (kept by their segments, and handed to `applied`), and the records of requests that want them. */
  #finish(chunks: Chunk[]): void {
    for (const c of chunks) {
      const seg = c.seg as Segment
      const { ops, seqs, lengths, reqs, hints } = c
      let offset = c.start
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]
        const hint: HintEntry = { key: op.key, offset, length: lengths[i], expiresAt: op.expiresAt, seq: seqs[i], flags: op.flags }
        // Only tagged records carry the field: an untagged one costs nothing more.
        if (op.tags !== undefined) hint.tags = op.tags
        hints.push(hint)
        seg.records?.push(hint)
        const records = reqs[i].records
        if (records !== undefined) {
          records.push({ key: op.key, offset, length: lengths[i], expiresAt: op.expiresAt, seq: seqs[i], flags: op.flags, seg: seg.id, op })
        }
        offset += lengths[i]
      }
      if (seg !== this.#active) this.#switchTo(seg)
    }
    if (this.#mustRoll && chunks.length > 0) this.#mustRoll = false
  }

  #switchTo(seg: Segment): void {
    const old = this.#active
    if (old.state === 'active') {
      old.state = 'sealed'
      this.#hooks.sealed(old)
    }
    seg.state = 'active'
    this.#active = seg
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done)
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
    done += bytesWritten
  }
}
