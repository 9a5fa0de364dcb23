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
  /** The batch is on disk (and fsynced when that was asked for). */
  applied(records: WrittenRecord[]): void
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
  resolve: (records: WrittenRecord[]) => void
  reject: (error: unknown) => void
}

const opLength = (op: WriteOp): number => recordLength(op.keyBytes.length, bodyLength(op.value.length, op.tags))

interface Chunk {
  seg: Segment | undefined
  start: number
  bytes: number
  items: { op: WriteOp; seq: number; offset: number; length: number; req: Request }[]
}

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
  #running = false
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

  submit(ops: WriteOp[], sync = false): Promise<WrittenRecord[]> {
    let bytes = 0
    for (const op of ops) bytes += opLength(op)
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, sync, bytes, resolve, reject })
      if (!this.#running) {
        this.#running = true
        // A microtask, not a timer: every request made in the same synchronous
        // run joins the first batch; later ones join the batch after it.
        queueMicrotask(() => void this.#drain())
      }
    })
  }

  /** Makes everything submitted so far durable: data, then the directory. */
  async sync(): Promise<void> {
    await this.submit([], true)
  }

  whenIdle(): Promise<void> {
    return this.#running ? new Promise((resolve) => this.#idle.push(resolve)) : Promise.resolve()
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      let take = 1
      let bytes = this.#queue[0].bytes
      while (take < this.#queue.length && bytes + this.#queue[take].bytes <= this.#opts.maxBatchBytes) {
        bytes += this.#queue[take++].bytes
      }
      await this.#commit(this.#queue.splice(0, take))
    }
    this.#running = false
    for (const resolve of this.#idle.splice(0)) resolve()
  }

  async #commit(batch: Request[]): Promise<void> {
    const chunks = this.#plan(batch)
    const bytes = chunks.reduce((n, c) => n + c.bytes, 0)
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
      for (const r of batch) r.reject(error)
      return
    }
    const written = this.#finish(chunks)
    this.#hooks.applied(written.map((w) => w.rec))
    const byReq = new Map<Request, WrittenRecord[]>()
    for (const w of written) byReq.get(w.req)?.push(w.rec) ?? byReq.set(w.req, [w.rec])
    for (const r of batch) r.resolve(byReq.get(r) ?? [])
  }

  #plan(batch: Request[]): Chunk[] {
    const chunks: Chunk[] = []
    const start = this.#mustRoll ? 0 : this.#active.size
    let cur: Chunk = { seg: this.#mustRoll ? undefined : this.#active, start, bytes: 0, items: [] }
    const seen = new Set<string>()
    for (const req of batch) {
      for (const op of req.ops) {
        if (op.from && (seen.has(op.key) || !this.#hooks.pointsAt(op.key, op.from.seg, op.from.offset))) continue
        const length = opLength(op)
        const used = cur.start + cur.bytes
        if (used > 0 && (op.roll || used + length > this.#opts.segmentBytes)) {
          chunks.push(cur)
          cur = { seg: undefined, start: 0, bytes: 0, items: [] }
        }
        cur.items.push({ op, seq: op.seq ?? this.#seq++, offset: cur.start + cur.bytes, length, req })
        cur.bytes += length
        seen.add(op.key)
      }
    }
    chunks.push(cur)
    return chunks.filter((c) => c.items.length > 0)
  }

  async #writeChunk(c: Chunk): Promise<void> {
    const seg = c.seg as Segment
    const buf = Buffer.allocUnsafe(c.bytes)
    let at = 0
    for (const it of c.items) at += encodeRecord(buf, at, it.op.keyBytes, it.op.value, it.op.flags, it.op.expiresAt, it.seq, it.op.tags)
    this.#dirty.add(seg)
    await writeFully(seg.fh, buf, c.start)
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

  #finish(chunks: Chunk[]): { req: Request; rec: WrittenRecord }[] {
    const out: { req: Request; rec: WrittenRecord }[] = []
    for (const c of chunks) {
      const seg = c.seg as Segment
      for (const it of c.items) {
        const rec: WrittenRecord = {
          key: it.op.key,
          offset: it.offset,
          length: it.length,
          expiresAt: it.op.expiresAt,
          seq: it.seq,
          flags: it.op.flags,
          seg: seg.id,
          op: it.op,
        }
        if (seg.records !== undefined) {
          const hint: HintEntry = { key: rec.key, offset: rec.offset, length: rec.length, expiresAt: rec.expiresAt, seq: rec.seq, flags: rec.flags }
          // Only tagged records carry the field: an untagged one costs nothing more.
          if (it.op.tags !== undefined) hint.tags = it.op.tags
          seg.records.push(hint)
        }
        out.push({ req: it.req, rec })
      }
      if (seg !== this.#active) this.#switchTo(seg)
    }
    if (this.#mustRoll && chunks.length > 0) this.#mustRoll = false
    return out
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

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done)
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
    done += bytesWritten
  }
}
