import { type FileHandle, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { asCacheError, CacheError } from '../errors.js'
import { DirLock } from '../tiers/cold/dir-lock.js'
import { syncDirectory } from '../files/durable-file.js'
import { unlinkQuiet } from '../files/unlink-quiet.js'
import { type ReplayResult, replayJournal, segmentName } from './journal-replay.js'
import { createSegment, type JournalSegment, PreparedSegment } from './journal-segment.js'

/** A segment's size: a commit that would run past it begins the next segment. */
const SEGMENT_BYTES = 1 << 20

interface Append {
  record: Buffer
  resolve: (segment: number) => void
  reject: (error: CacheError) => void
}

/**
 * The write-back journal: a directory of segment files of records
 * (`journal-record.ts`), locked by one cache at a time.
 *
 * - Append with group commit: records appended while a write and its
 *   `datasync` run wait for the next one, and share it. An append resolves
 *   with its segment's id once durable, or rejects `E_IO`.
 * - Preallocation: segments are filled with zeros to their full size before
 *   they take records (`journal-segment.ts`): the first at open, the next (the
 *   spare) in the background once the active segment is half full, so that
 *   a commit overwrites blocks the file has and its `datasync` commits no
 *   file size. A commit that would run past the segment's size rotates into
 *   the spare. On disk this adds at most the spare and the active segment's
 *   unused zeros (two segments' bytes) while open; a close truncates a kept
 *   segment to its records and removes the spare.
 * - Reclaim: each segment counts its live ops (appended, and neither written
 *   to the source nor replaced by a later durable op of their key). Segments
 *   are deleted oldest first, and only while the oldest has no live op: a
 *   newer segment never goes before an older one, so a replay can never find
 *   a key's older op without the newer ops that followed it. The directory is
 *   fsynced after each removal, for the same reason.
 * - A clean close with nothing live deletes every segment.
 */
export class Journal {
  readonly #dir: string
  readonly #lock: DirLock
  /** Live ops per segment id, oldest segment first (Map order). */
  readonly #live = new Map<number, number>()
  #active: JournalSegment
  /** The next segment, being prepared or ready; undefined until the active one is half full. */
  #spare: PreparedSegment | undefined
  #queue: Append[] = []
  #committing: Promise<void> | undefined
  readonly #segmentBytes: number
  #reclaiming: Promise<void> | undefined
  /** A release came while a reclaim ran: look again when it ends. */
  #again = false
  readonly #report: (error: CacheError) => void

  private constructor(dir: string, lock: DirLock, active: JournalSegment, report: (error: CacheError) => void, segmentBytes: number) {
    this.#dir = dir
    this.#segmentBytes = segmentBytes
    this.#lock = lock
    this.#active = active
    this.#report = report
  }

  /**
   * Locks `dir` (created when missing), reads what a previous run left, and
   * begins a new segment after it, prepared to its full size. `report` hears
   * of errors no caller awaits (a segment that could not be removed or
   * prepared). `segmentBytes`: a segment's size.
   */
  static async open(dir: string, report: (error: CacheError) => void, segmentBytes = SEGMENT_BYTES): Promise<{ journal: Journal; replayed: ReplayResult }> {
    try {
      await mkdir(dir, { recursive: true })
    } catch (e) {
      throw new CacheError('E_IO', `cannot create the journal directory ${dir}: ${(e as Error).message}`, { cause: e })
    }
    const lock = await DirLock.acquire(dir)
    try {
      const replayed = await replayJournal(dir)
      const id = (replayed.segments.at(-1) ?? 0) + 1
      const active = await PreparedSegment.start(dir, id, segmentBytes).ready()
      const journal = new Journal(dir, lock, active, report, segmentBytes)
      for (const [segment, live] of replayed.live) journal.#live.set(segment, live)
      journal.#live.set(id, 0)
      // Segments a previous run left with nothing live (a spare it had prepared, one whose ops were all written) go now.
      void journal.#reclaim()
      return { journal, replayed }
    } catch (e) {
      await lock.release()
      throw asCacheError(e, 'E_IO', `cannot open the journal in ${dir}: ${(e as Error).message}`)
    }
  }

  /** Resolves with the id of the segment that holds `record` once it is fsynced; rejects `E_IO`. */
  append(record: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject })
      this.#committing ??= this.#commit()
    })
  }

  /** An op of `segment` was written to the source, or replaced by a durable later op of its key. */
  release(segment: number): void {
    const live = this.#live.get(segment)
    if (live === undefined) return
    this.#live.set(segment, live - 1)
    if (live === 1) void this.#reclaim()
  }

  /**
   * Waits for appends under way; removes the spare; deletes every segment
   * when none holds a live op, or else cuts the active one's unused zeros;
   * releases the lock.
   */
  async close(): Promise<void> {
    while (this.#committing !== undefined) await this.#committing
    while (this.#reclaiming !== undefined) await this.#reclaiming
    try {
      const spare = this.#spare
      this.#spare = undefined
      let live = 0
      for (const n of this.#live.values()) live += n
      // The active segment's handle is closed whatever fails before it.
      try {
        await spare?.discard()
        if (live > 0) await this.#active.fh.truncate(this.#active.size)
      } finally {
        await this.#active.fh.close()
      }
      if (live === 0) {
        for (const id of this.#live.keys()) await unlinkQuiet(join(this.#dir, segmentName(id)))
        await syncDirectory(this.#dir)
      }
    } finally {
      await this.#lock.release()
    }
  }

  async #commit(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue
      this.#queue = []
      try {
        const buffers = batch.map((append) => append.record)
        let bytes = 0
        for (const b of buffers) bytes += b.length
        // A commit larger than a whole segment goes into an empty one, and grows it.
        if (this.#active.size > 0 && this.#active.size + bytes > this.#segmentBytes) await this.#rotate()
        const segment = this.#active
        await writeAll(segment.fh, buffers, segment.size)
        await segment.fh.datasync()
        segment.size += bytes
        this.#live.set(segment.id, (this.#live.get(segment.id) ?? 0) + batch.length)
        for (const append of batch) append.resolve(segment.id)
        if (this.#spare === undefined && segment.size * 2 >= this.#segmentBytes) this.#prepareSpare()
      } catch (e) {
        // The position is not advanced: the next commit writes over whatever part of this one reached the file.
        const error = new CacheError('E_IO', `cannot write the journal in ${this.#dir}: ${(e as Error).message}`, { cause: e })
        for (const append of batch) append.reject(error)
      }
    }
    this.#committing = undefined
  }

  #prepareSpare(): void {
    const spare = PreparedSegment.start(this.#dir, this.#active.id + 1, this.#segmentBytes)
    spare.ready().catch((error: CacheError) => this.#report(error))
    this.#spare = spare
  }

  /** Moves to the spare (as far as it is prepared), or to a plain new segment when there is none or it failed. */
  async #rotate(): Promise<void> {
    const spare = this.#spare
    this.#spare = undefined
    const next = (await spare?.take()) ?? (await createSegment(this.#dir, this.#active.id + 1))
    const previous = this.#active
    this.#active = next
    this.#live.set(next.id, 0)
    void this.#reclaim()
    // Its records are durable: a failed close loses nothing, and must not stop the journal moving on.
    await previous.fh
      .close()
      .catch((e: Error) => this.#report(new CacheError('E_IO', `cannot close a journal segment in ${this.#dir}: ${e.message}`, { cause: e })))
  }

  /** Deletes the oldest segments while they hold no live op, never the active one. */
  #reclaim(): Promise<void> {
    if (this.#reclaiming !== undefined) {
      this.#again = true
      return this.#reclaiming
    }
    this.#reclaiming = this.#removeWritten().finally(() => {
      this.#reclaiming = undefined
      if (this.#again) {
        this.#again = false
        void this.#reclaim()
      }
    })
    return this.#reclaiming
  }

  async #removeWritten(): Promise<void> {
    try {
      for (const [id, live] of this.#live) {
        if (live > 0 || id === this.#active.id) break
        await unlinkQuiet(join(this.#dir, segmentName(id)))
        await syncDirectory(this.#dir)
        this.#live.delete(id)
      }
    } catch (e) {
      this.#report(new CacheError('E_IO', `cannot remove a written journal segment in ${this.#dir}: ${(e as Error).message}`, { cause: e }))
    }
  }
}

async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers)
  let at = position
  while (rest.length > 0) {
    const { bytesWritten } = await fh.write(rest, 0, rest.length, at)
    rest = rest.subarray(bytesWritten)
    at += bytesWritten
  }
}
