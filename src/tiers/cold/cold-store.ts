import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { asCacheError, CacheError } from '../../errors.js'
import { ColdIndex, type IndexEntry } from './cold-index.js'
import { DirLock } from './dir-lock.js'
import { writeHint, type HintEntry } from './hint-file.js'
import { resolveColdOptions, type ColdStoreOptions, type ResolvedColdOptions } from './options.js'
import { FLAG_BARRIER, FLAG_TOMBSTONE } from './record-format.js'
import { recover } from './recovery.js'
import { keepReserve, releaseReserve } from './reserve.js'
import { type ColdReadOptions, ColdReads } from './cold-reads.js'
import { ColdMaintenance } from './maintenance.js'
import { hintFile, SegmentSet, type Segment } from './segment-set.js'
import { ColdSegmentWriter, type WriteOp } from './segment-writer.js'
import { toPutOp, type ColdHit, type ColdPut, type ColdStoreStats } from './types.js'
import { yieldToLoop } from './yield.js'

const EMPTY = Buffer.alloc(0)
const DEFAULT_BUDGET = 4 << 20
/** An empty putMany answers with this one. */
const DONE: Promise<void> = Promise.resolve()

/**
 * The cold tier's storage engine: log-structured segment files in one
 * directory, an in-memory index, one group-commit writer. `open()` is the
 * only way in: it resolves once recovery is done, so there is no `ready`.
 * It owns no timers; `sync()` and `maintain()` are driven by the caller.
 */
export class ColdStore {
  readonly #o: ResolvedColdOptions
  readonly #lock: DirLock
  readonly #segments: SegmentSet
  readonly #index: ColdIndex
  readonly #reads: ColdReads
  #writer!: ColdSegmentWriter
  /**
   * Key -> the tag of the newest #write request that wrote it. Requests take
   * increasing tags and settle in the order they were made, so a key has a
   * write in flight exactly when its tag is above #settledTag: one Map set per
   * op and nothing per op when it settles. Entries of settled requests are
   * dropped all at once when nothing is in flight, or swept when they pile up.
   */
  #pending = new Map<string, number>()
  #lastTag = 0
  #settledTag = 0
  #sweepAt = 1 << 16
  #hints: Promise<void> = Promise.resolve()
  #maintenance!: ColdMaintenance
  #closed = false
  #recoveredTags: Map<string, readonly string[]> | undefined
  #corrupt = 0

  private constructor(o: ResolvedColdOptions, lock: DirLock, segments: SegmentSet) {
    this.#o = o
    this.#lock = lock
    this.#segments = segments
    this.#index = new ColdIndex(segments, o.now)
    this.#reads = new ColdReads(segments, o.dir, o.readConcurrency, {
      live: (key) => this.#live(key),
      accessed: (key) => this.#index.markAccessed(key),
      corrupt: (key, seg, offset) => this.#corruptRecord(key, seg, offset),
    })
  }

  static async open(options: ColdStoreOptions): Promise<ColdStore> {
    const o = resolveColdOptions(options)
    const io = (what: string, e: unknown): CacheError => asCacheError(e, 'E_IO', `${what} ${o.dir}: ${(e as Error).message}`)
    try {
      await mkdir(o.dir, { recursive: true })
    } catch (e) {
      throw io('cannot create the cold store directory', e)
    }
    let lock: DirLock
    try {
      lock = await DirLock.acquire(o.dir)
    } catch (e) {
      throw io('cannot lock the cold store directory', e)
    }
    const segments = new SegmentSet(o.dir)
    const store = new ColdStore(o, lock, segments)
    try {
      await store.#recover()
      await keepReserve(o.dir)
      return store
    } catch (e) {
      await segments.closeAll()
      await lock.release().catch(() => undefined)
      throw io('cannot open the cold store in', e)
    }
  }

  async #recover(): Promise<void> {
    const r = await recover({
      segments: this.#segments,
      index: this.#index,
      segmentBytes: this.#o.segmentBytes,
      report: (e) => this.#o.onError(e),
    })
    this.#corrupt += r.corruptRecords
    this.#recoveredTags = r.tags
    this.#index.onLeave = this.#o.onLeave
    const active = r.resume ?? (await this.#segments.create(this.#segments.maxId + 1))
    active.state = 'active'
    for (const seg of this.#segments.all()) if (seg !== active && seg.records !== undefined) this.#writeHintLater(seg)
    this.#writer = new ColdSegmentWriter(
      this.#segments,
      active,
      { segmentBytes: this.#o.segmentBytes, fsync: this.#o.fsync, nextSeq: r.maxSeq + 1, maxBatchBytes: 4 << 20 },
      {
        pointsAt: (key, seg, offset) => this.#index.pointsAt(key, seg, offset),
        makeRoom: (bytes) => this.#maintenance.makeRoom(bytes),
        applied: (seg, ops, hints) => this.#applied(seg, ops, hints),
        settled: (tag) => this.#settled(tag),
        sealed: (seg) => this.#writeHintLater(seg),
        failed: (error) => this.#o.onError(error),
      },
    )
    this.#maintenance = new ColdMaintenance(this.#o, this.#segments, this.#index, this.#writer)
    // What was lost stays lost: the older records of these keys must not come back at a later open either.
    if (r.lost.length > 0) {
      await this.#write(r.lost.map((key) => ({ key, keyBytes: Buffer.from(key, 'utf8'), value: EMPTY, expiresAt: 0, flags: FLAG_TOMBSTONE })))
    }
  }

  /** From the index, no I/O, no allocation. False for expired and deleted keys. */
  has(key: string): boolean {
    const seg = this.#index.liveSegment(key, this.#o.now())
    if (seg === -1) return false
    if (this.#segments.get(seg) !== undefined) return true
    // Its segment was dropped to keep the disk bound; nothing older remains.
    this.#index.forget(key)
    return false
  }

  /**
   * Frees the room kept in reserve (a file of zeros made at open), so that a
   * few small writes can still land on a full disk: the tombstones that keep
   * older values from coming back. True when there was a reserve to free.
   */
  releaseReserve(): Promise<boolean> {
    return releaseReserve(this.#o.dir)
  }

  /** Whether a write of the key has been submitted and not yet settled. */
  writing(key: string): boolean {
    return (this.#pending.get(key) ?? 0) > this.#settledTag
  }

  /**
   * The key's value, read from disk and checked by CRC; undefined for a miss
   * or a record found corrupt (reported E_CORRUPT, and tombstoned).
   */
  get(key: string, options?: ColdReadOptions): Promise<ColdHit | undefined> {
    if (this.#closed) return Promise.reject(this.#closedError())
    return this.#reads.get(key, options)
  }

  /** `get` of each key, read in parallel (at most readConcurrency in flight); one E_IO rejects the whole call. */
  getMany(keys: readonly string[], options?: ColdReadOptions): Promise<(ColdHit | undefined)[]> {
    if (this.#closed) return Promise.reject(this.#closedError())
    return this.#reads.getMany(keys, options)
  }

  /** Resolves once the batch is written (and fsynced under 'always'). All or nothing on bad input. */
  putMany(entries: readonly ColdPut[]): Promise<void> {
    // Not async: one promise per call, the writer's (errors still come back as a rejection).
    if (this.#closed) return Promise.reject(this.#closedError())
    let ops: WriteOp[]
    try {
      ops = new Array<WriteOp>(entries.length)
      for (let i = 0; i < entries.length; i++) ops[i] = toPutOp(entries[i], this.#o.segmentBytes)
    } catch (e) {
      return Promise.reject(e)
    }
    return ops.length > 0 ? this.#write(ops) : DONE
  }

  /** Writes a tombstone; true when the key held a live value (or had a write in flight). */
  async delete(key: string): Promise<boolean> {
    this.#assertOpen()
    const pending = this.writing(key)
    const e = this.#index.get(key)
    const onDisk = e !== undefined && this.#segments.get(e.seg) !== undefined && (e.flags & FLAG_TOMBSTONE) === 0
    if (!pending && !onDisk) return false
    const live = pending || this.has(key)
    const keyBytes = Buffer.from(key, 'utf8')
    await this.#write([{ key, keyBytes, value: EMPTY, expiresAt: 0, flags: FLAG_TOMBSTONE }])
    return live
  }

  /**
   * Writes a barrier record into a fresh segment (recovery drops every record
   * older than it), empties the index, then deletes the old files in slices.
   */
  async clear(): Promise<void> {
    this.#assertOpen()
    // Submitted before any await: writes issued after clear() land after the barrier.
    const written = this.#writer.submitForRecords([{ key: '', keyBytes: EMPTY, value: EMPTY, expiresAt: 0, flags: FLAG_BARRIER, roll: true }])
    // Its failure is this call's, seen once the reset is done: the barrier may fail first (a full disk), and must not count as unhandled meanwhile.
    written.catch(() => undefined)
    await this.#maintenance.reset()
    const [barrier] = await written
    for (const seg of [...this.#segments.all()]) {
      if (seg.id >= barrier.seg) continue
      await this.#segments.drop(seg)
      await yieldToLoop()
    }
    this.#writer.markDirDirty()
  }

  /**
   * Forgets, in slices, every index entry whose segment the hard bound
   * dropped, so that each value that left is told to `onLeave` now rather than
   * when a later read or upkeep would find it.
   */
  settleDropped(): Promise<void> {
    this.#assertOpen()
    return this.#maintenance.settleDropped()
  }

  /** Data, then directory fsync of everything written before the call. */
  async sync(): Promise<void> {
    this.#assertOpen()
    await this.#writer.sync()
  }

  /**
   * One bounded slice of upkeep, about `budget` bytes of segment data read:
   * eviction of the oldest segments (with reinsertion of entries read since
   * written) while disk use is over maxBytes minus one segment, then compaction of segments
   * whose dead fraction passed the threshold. Resolves true while more is
   * due. Reads and writes go on meanwhile.
   */
  maintain(budget: number = DEFAULT_BUDGET): Promise<boolean> {
    this.#assertOpen()
    return this.#maintenance.run(budget)
  }

  stats(): ColdStoreStats {
    let entries = 0
    let bytes = 0
    for (const s of this.#segments.all()) {
      entries += s.entries
      bytes += s.valueBytes
    }
    return {
      entries,
      bytes,
      diskBytes: this.#segments.diskBytes,
      segments: this.#segments.count,
      hits: this.#reads.hits,
      misses: this.#reads.misses,
      corruptRecords: this.#corrupt,
      writes: this.#writer.writes,
      syncs: this.#writer.syncs,
      reads: this.#reads.reads,
      evictions: this.#maintenance.evictions,
      compactions: this.#maintenance.compactions,
    }
  }

  /**
   * The tags found by opening: every key whose newest record is a tagged
   * value (some may have expired since), with its tags; keys with equal
   * lists may share one array, which must not be changed. Handed over once: later calls get an empty map,
   * and the store keeps no tags in memory after that. Tags of later writes
   * are the writer's to remember.
   */
  takeRecoveredTags(): Map<string, readonly string[]> {
    const tags = this.#recoveredTags ?? new Map<string, readonly string[]>()
    this.#recoveredTags = undefined
    return tags
  }

  /** Live keys, from the index (a snapshot walk; no I/O). */
  *keys(): IterableIterator<string> {
    for (const key of this.#index.keys()) if (this.#live(key) !== undefined) yield key
  }

  /** Finishes queued work, fsyncs, writes the active segment's hint and releases the directory. */
  async close(): Promise<void> {
    if (!(await this.#stopWork())) return
    try {
      await this.#writer.sync()
      const active = this.#writer.active
      if (active.records !== undefined && active.records.length > 0) {
        await writeHint(join(this.#o.dir, hintFile(active.id)), active.id, active.size, active.records)
      }
    } catch (e) {
      this.#o.onError(asCacheError(e, 'E_IO', `closing ${this.#o.dir}: ${(e as Error).message}`))
    }
    await this.#hints
    await this.#segments.closeAll()
    await this.#lock.release()
  }

  /**
   * Closes the store and removes every segment, oldest first: a clear that
   * needs no room, for a disk too full to take even the clear's barrier. A
   * crash part way leaves the newest part of the log, whose records win over
   * any older copy of their keys.
   */
  async closeRemovingAll(): Promise<void> {
    if (!(await this.#stopWork())) return
    await this.#hints
    try {
      for (const seg of [...this.#segments.all()]) {
        await this.#segments.drop(seg)
        await yieldToLoop()
      }
      await this.#segments.syncDir()
    } finally {
      await this.#segments.closeAll()
      await this.#lock.release()
    }
  }

  /** The first close: upkeep stopped, queued writes and reads finished. False when already closed. */
  async #stopWork(): Promise<boolean> {
    if (this.#closed) return false
    this.#closed = true
    await this.#maintenance.stop()
    await this.#writer.whenIdle()
    await this.#reads.idle()
    return true
  }

  /**
   * @internal For crash tests: stops as a kill -9 would, with no flush, no
   * fsync and no hint for the active segment; only the lock is released so
   * the same process can open the directory again.
   */
  async abandonForTesting(): Promise<void> {
    this.#closed = true
    await this.#writer.whenIdle()
    await this.#hints
    await this.#segments.closeAll()
    await this.#lock.release()
  }

  #assertOpen(): void {
    if (this.#closed) throw this.#closedError()
  }

  #closedError(): CacheError {
    return new CacheError('E_CLOSED', `the cold store in ${this.#o.dir} is closed`)
  }

  /** The key's entry when it holds a readable, unexpired value. */
  #live(key: string): IndexEntry | undefined {
    const e = this.#index.get(key)
    if (e === undefined) return undefined
    if (this.#segments.get(e.seg) === undefined) {
      // Its segment was dropped to keep the disk bound; nothing older remains.
      this.#index.forget(key)
      return undefined
    }
    if ((e.flags & FLAG_TOMBSTONE) !== 0) return undefined
    return e.expiresAt !== 0 && e.expiresAt <= this.#o.now() ? undefined : e
  }

  /** A read found the record corrupt: unreadable from now on, tombstoned on disk, reported. */
  #corruptRecord(key: string, seg: number, offset: number): void {
    this.#corrupt++
    this.#index.markUnreadable(key, seg, offset)
    // On disk too: a tombstone, so that no later open (by scan, or after the
    // bad record is compacted away) can bring back an older value of the key.
    void this.#write([{ key, keyBytes: Buffer.from(key, 'utf8'), value: EMPTY, expiresAt: 0, flags: FLAG_TOMBSTONE }]).catch(() => undefined)
    this.#o.onError(
      new CacheError(
        'E_CORRUPT',
        `record of key ${JSON.stringify(key)} in ${this.#segments.get(seg)?.path ?? `segment ${seg}`} at offset ${offset} failed its check`,
      ),
    )
  }

  #write(ops: WriteOp[]): Promise<void> {
    const tag = ++this.#lastTag
    const pending = this.#pending
    for (let i = 0; i < ops.length; i++) pending.set(ops[i].key, tag)
    return this.#writer.submit(ops, false, tag)
  }

  /** The writer's call just before a request of #write settles, written or failed: its keys are no longer in flight (unless a later request has them too). */
  #settled(tag: number): void {
    this.#settledTag = tag
    const pending = this.#pending
    if (tag === this.#lastTag) pending.clear()
    else if (pending.size >= this.#sweepAt) {
      // Writes never stopped long enough to clear: drop the settled entries, amortized O(1) per op.
      for (const [key, t] of pending) if (t <= tag) pending.delete(key)
      this.#sweepAt = Math.max(1 << 16, pending.size * 2)
    }
  }

  /** Records of one segment are on disk: the index takes them, from their hint entries (no object per record here). */
  #applied(seg: number, ops: readonly WriteOp[], hints: readonly HintEntry[]): void {
    const index = this.#index
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]
      if ((op.flags & FLAG_BARRIER) !== 0) {
        if (op.seq === undefined) {
          index.reset()
          this.#segments.resetCounts()
        }
        continue
      }
      if (op.from === undefined) {
        index.setRecord(op.key, seg, hints[i])
      } else if (index.pointsAt(op.key, op.from.seg, op.from.offset)) {
        const read = op.reinsert !== true && index.isAccessed(op.key)
        index.setRecord(op.key, seg, hints[i])
        if (read) index.markAccessed(op.key)
      }
    }
  }

  #writeHintLater(seg: Segment): void {
    const records = seg.records
    seg.records = undefined
    if (records === undefined) return
    // One at a time, behind the writes; a missing hint only makes the next open scan.
    this.#hints = this.#hints
      .then(async () => {
        if (seg.state === 'dropped') return
        // The hint must not describe records that a power cut could still take away.
        await seg.fh.datasync()
        await writeHint(join(this.#o.dir, hintFile(seg.id)), seg.id, seg.size, records)
      })
      .catch(() => undefined)
  }
}
