import { constants } from 'node:fs'
import { open, readdir, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { SegmentLedger } from './cold-index.js'
import type { HintEntry } from './hint-file.js'
import { syncDirectory } from '../../files/durable-file.js'
import { openRegularFile } from './regular-file.js'
import { unlinkQuiet } from '../../files/unlink-quiet.js'

const SEGMENT_NAME = /^seg-(\d{8})\.log$/

export const segmentFile = (id: number): string => `seg-${String(id).padStart(8, '0')}.log`
export const hintFile = (id: number): string => `seg-${String(id).padStart(8, '0')}.hint`

/** One segment file and the live counts the index keeps for it. */
export class Segment {
  /** Bytes of records the index points at (values and tombstones). */
  live = 0
  /** Of those, bytes and count of value records (what `stats()` reports). */
  valueBytes = 0
  entries = 0
  /** Reads in flight; a dropped segment closes its handle when they end. */
  refs = 0
  state: 'active' | 'sealed' | 'dropped' = 'sealed'
  /** Records written to it, kept while it is active, for its hint file. */
  records: HintEntry[] | undefined

  constructor(
    readonly id: number,
    readonly path: string,
    readonly fh: FileHandle,
    public size: number,
  ) {}

  get dead(): number {
    return this.size - this.live
  }
}

/** The segment files of one directory, oldest (lowest id) first. */
export class SegmentSet implements SegmentLedger {
  readonly #byId = new Map<number, Segment>()
  #ordered: Segment[] | undefined
  /** The highest id whose name is taken by something that is not a segment file. */
  #reserved = 0

  constructor(readonly dir: string) {}

  /** Ids of every name of a segment file, whatever has the name. */
  async listIds(): Promise<number[]> {
    const ids: number[] = []
    for (const name of await readdir(this.dir)) {
      const m = SEGMENT_NAME.exec(name)
      if (m) ids.push(Number(m[1]))
    }
    return ids.sort((a, b) => a - b)
  }

  /** Rejects with NotRegularFileError when the name is not a regular file (a directory, a symlink, a FIFO). */
  async openExisting(id: number): Promise<Segment> {
    const path = join(this.dir, segmentFile(id))
    const fh = await openRegularFile(path, constants.O_RDWR)
    try {
      const { size } = await fh.stat()
      return this.#add(new Segment(id, path, fh, size))
    } catch (e) {
      await fh.close()
      throw e
    }
  }

  async create(id: number): Promise<Segment> {
    const path = join(this.dir, segmentFile(id))
    const seg = new Segment(id, path, await open(path, 'wx+'), 0)
    seg.state = 'active'
    seg.records = []
    return this.#add(seg)
  }

  get(id: number): Segment | undefined {
    return this.#byId.get(id)
  }

  /** Ascending by id; do not hold across awaits. */
  all(): readonly Segment[] {
    this.#ordered ??= [...this.#byId.values()].sort((a, b) => a.id - b.id)
    return this.#ordered
  }

  get count(): number {
    return this.#byId.size
  }

  /** The id's name is taken by something that is not a segment: new segments are numbered past it. */
  reserve(id: number): void {
    if (id > this.#reserved) this.#reserved = id
  }

  /** The highest id in use (0 for none): a new segment takes the next. */
  get maxId(): number {
    const all = this.all()
    return Math.max(this.#reserved, all.length === 0 ? 0 : all[all.length - 1].id)
  }

  get diskBytes(): number {
    let n = 0
    for (const s of this.#byId.values()) n += s.size
    return n
  }

  oldestSealed(): Segment | undefined {
    return this.all().find((s) => s.state === 'sealed')
  }

  /** No segment older than `seg` is left, so nothing it shadows remains. */
  isOldest(seg: Segment): boolean {
    return this.all()[0] === seg
  }

  acquire(id: number): Segment | undefined {
    const seg = this.#byId.get(id)
    if (seg !== undefined) seg.refs++
    return seg
  }

  release(seg: Segment): void {
    seg.refs--
    if (seg.state === 'dropped' && seg.refs === 0) void seg.fh.close().catch(() => undefined)
  }

  account(id: number, length: number, isValue: boolean, sign: 1 | -1): void {
    const seg = this.#byId.get(id)
    if (seg === undefined) return
    seg.live += sign * length
    if (isValue) {
      seg.valueBytes += sign * length
      seg.entries += sign
    }
  }

  resetCounts(): void {
    for (const s of this.#byId.values()) s.live = s.valueBytes = s.entries = 0
  }

  /**
   * Removes the segment and its hint from disk. Reads already holding it
   * finish first (POSIX keeps an unlinked file readable through open handles).
   * Its handle is closed even when a name cannot be removed: out of the set,
   * nothing else would close it.
   */
  async drop(seg: Segment): Promise<void> {
    if (seg.state === 'dropped') return
    seg.state = 'dropped'
    this.#byId.delete(seg.id)
    this.#ordered = undefined
    try {
      await unlinkQuiet(seg.path)
      await unlinkQuiet(join(this.dir, hintFile(seg.id)))
    } finally {
      if (seg.refs === 0) await seg.fh.close().catch(() => undefined)
    }
  }

  /** fsync of the directory, so created and removed files survive a power cut. */
  syncDir(): Promise<void> {
    return syncDirectory(this.dir)
  }

  async closeAll(): Promise<void> {
    const all = [...this.#byId.values()]
    this.#byId.clear()
    this.#ordered = undefined
    await Promise.all(all.map((s) => s.fh.close().catch(() => undefined)))
  }

  #add(seg: Segment): Segment {
    this.#byId.set(seg.id, seg)
    this.#ordered = undefined
    return seg
  }
}
