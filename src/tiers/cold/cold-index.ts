import { FLAG_TAGS, FLAG_TOMBSTONE } from './record-format.js'

/** Where the newest record of a key lives, and what the index knows of it. */
export interface IndexEntry {
  seg: number
  offset: number
  length: number
  expiresAt: number
  seq: number
  /** Record flags: tombstone and tags bits and the caller's bits. */
  flags: number
}

/** Keeps per-segment live counts as entries move (implemented by SegmentSet). */
export interface SegmentLedger {
  account(seg: number, length: number, isValue: boolean, sign: 1 | -1): void
}

/**
 * Why a value left the store other than by a newer record of its key:
 * - 'evicted': its segment was dropped for room (region FIFO eviction, or the
 *   hard bound dropping the oldest segment whole), and it had not expired;
 * - 'expired': it had expired when compaction or eviction let it go;
 * - 'corrupt': its record failed its check when read.
 */
export type ColdLeaveReason = 'evicted' | 'expired' | 'corrupt'

/**
 * Told of a value that leaves the store other than by a newer record of its
 * key, with why, and whether the record carried tags. Called synchronously,
 * inside whatever store call noticed it.
 */
export type ColdLeaveListener = (key: string, reason: ColdLeaveReason, tagged: boolean) => void

const isValue = (flags: number): boolean => (flags & FLAG_TOMBSTONE) === 0
const isTagged = (flags: number): boolean => (flags & FLAG_TAGS) !== 0

/**
 * key -> newest on-disk record of that key, for every key that has a record
 * on disk: values, tombstones and expired values alike. Keeping the shadows
 * (tombstones, expired) is what lets compaction drop an older record safely.
 * A miss is a Map lookup, no I/O. Entries live in typed arrays indexed by
 * slot (as node-lru-cache does) so a million keys cost no million objects.
 */
export class ColdIndex {
  #slots = new Map<string, number>()
  #free: number[] = []
  #next = 0
  #seg = new Uint32Array(1024)
  #off = new Uint32Array(1024)
  #len = new Uint32Array(1024)
  #exp = new Float64Array(1024)
  #seq = new Float64Array(1024)
  #flags = new Uint8Array(1024)
  #accessed = new Uint8Array(1024)
  readonly #ledger: SegmentLedger
  readonly #now: () => number
  /**
   * Told of every value that leaves the index other than by a newer record
   * of its key (its segment gone, dropped by compaction, found corrupt), with
   * the reason, so that whoever keeps account of the store's entries (their
   * tags, the cache's evictions) can. Unset during recovery. Tombstones are
   * never told. The index itself keeps no tags: only the flag bit.
   */
  onLeave: ColdLeaveListener | undefined

  /** `now` tells an expired value from an evicted one when its segment is gone. */
  constructor(ledger: SegmentLedger, now: () => number = Date.now) {
    this.#ledger = ledger
    this.#now = now
  }

  get size(): number {
    return this.#slots.size
  }

  get(key: string): IndexEntry | undefined {
    const s = this.#slots.get(key)
    if (s === undefined) return undefined
    return {
      seg: this.#seg[s],
      offset: this.#off[s],
      length: this.#len[s],
      expiresAt: this.#exp[s],
      seq: this.#seq[s],
      flags: this.#flags[s],
    }
  }

  /**
   * The segment of the key's newest record when that record is a value that
   * has not expired at `now`; -1 otherwise. Allocation-free: the cache asks
   * this on every write and demotion.
   */
  liveSegment(key: string, now: number): number {
    const s = this.#slots.get(key)
    if (s === undefined || !isValue(this.#flags[s])) return -1
    const expiresAt = this.#exp[s]
    return expiresAt !== 0 && expiresAt <= now ? -1 : this.#seg[s]
  }

  /** Sequence number of the key's newest record, -1 when none. */
  seqOf(key: string): number {
    const s = this.#slots.get(key)
    return s === undefined ? -1 : this.#seq[s]
  }

  pointsAt(key: string, seg: number, offset: number): boolean {
    const s = this.#slots.get(key)
    return s !== undefined && this.#seg[s] === seg && this.#off[s] === offset
  }

  set(key: string, e: IndexEntry): void {
    this.setRecord(key, e.seg, e)
  }

  /** `set` with the segment apart: the writer hands over a record's hint entry as it is, with no entry object per record. */
  setRecord(key: string, seg: number, e: Omit<IndexEntry, 'seg'>): void {
    let s = this.#slots.get(key)
    if (s !== undefined) {
      this.#ledger.account(this.#seg[s], this.#len[s], isValue(this.#flags[s]), -1)
    } else {
      s = this.#free.pop() ?? this.#grow()
      this.#slots.set(key, s)
    }
    this.#seg[s] = seg
    this.#off[s] = e.offset
    this.#len[s] = e.length
    this.#exp[s] = e.expiresAt
    this.#seq[s] = e.seq
    this.#flags[s] = e.flags
    this.#accessed[s] = 0
    this.#ledger.account(seg, e.length, isValue(e.flags), 1)
  }

  /** Drops the key's entry; a value is told to `onLeave` with `reason`, when one is given. */
  remove(key: string, reason?: ColdLeaveReason): void {
    const s = this.#slots.get(key)
    if (s === undefined) return
    this.#ledger.account(this.#seg[s], this.#len[s], isValue(this.#flags[s]), -1)
    this.#slots.delete(key)
    this.#free.push(s)
    if (reason !== undefined) this.#left(key, s, reason)
  }

  /**
   * Forgets a key whose segment is already gone (no accounting to undo): a
   * value was evicted, or had expired.
   */
  forget(key: string): void {
    const s = this.#slots.get(key)
    if (s === undefined) return
    this.#slots.delete(key)
    this.#free.push(s)
    if (this.onLeave === undefined || !isValue(this.#flags[s])) return
    const expiresAt = this.#exp[s]
    this.#left(key, s, expiresAt !== 0 && expiresAt <= this.#now() ? 'expired' : 'evicted')
  }

  /** Forgets the key if it still points at that record, whose segment is gone. */
  forgetAt(key: string, seg: number, offset: number): void {
    if (this.pointsAt(key, seg, offset)) this.forget(key)
  }

  segOf(key: string): number {
    const s = this.#slots.get(key)
    return s === undefined ? -1 : this.#seg[s]
  }

  /** In memory only: a record found corrupt reads as deleted from now on. */
  markUnreadable(key: string, seg: number, offset: number): void {
    const s = this.#slots.get(key)
    if (s === undefined || this.#seg[s] !== seg || this.#off[s] !== offset) return
    if (!isValue(this.#flags[s])) return
    this.#ledger.account(seg, this.#len[s], true, -1)
    this.#ledger.account(seg, this.#len[s], false, 1)
    this.#left(key, s, 'corrupt')
    this.#flags[s] |= FLAG_TOMBSTONE
  }

  /** Tells `onLeave` of the key when its entry is a value (one about to be replaced by a tombstone of its own). */
  leaving(key: string, reason: ColdLeaveReason): void {
    const s = this.#slots.get(key)
    if (s !== undefined) this.#left(key, s, reason)
  }

  markAccessed(key: string): void {
    const s = this.#slots.get(key)
    if (s !== undefined) this.#accessed[s] = 1
  }

  isAccessed(key: string): boolean {
    const s = this.#slots.get(key)
    return s !== undefined && this.#accessed[s] === 1
  }

  /** Drops every entry; the caller resets the segments' counts. */
  reset(): void {
    this.#slots = new Map()
    this.#free = []
    this.#next = 0
  }

  keys(): IterableIterator<string> {
    return this.#slots.keys()
  }

  /** Tells `onLeave` when slot `s` (just freed, or about to change) holds a value. */
  #left(key: string, s: number, reason: ColdLeaveReason): void {
    const flags = this.#flags[s]
    if (isValue(flags)) this.onLeave?.(key, reason, isTagged(flags))
  }

  #grow(): number {
    if (this.#next === this.#seg.length) {
      const cap = this.#seg.length * 2
      const grow = <T extends Uint32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
        const b = make(cap)
        b.set(a)
        return b
      }
      this.#seg = grow(this.#seg, (n) => new Uint32Array(n))
      this.#off = grow(this.#off, (n) => new Uint32Array(n))
      this.#len = grow(this.#len, (n) => new Uint32Array(n))
      this.#exp = grow(this.#exp, (n) => new Float64Array(n))
      this.#seq = grow(this.#seq, (n) => new Float64Array(n))
      this.#flags = grow(this.#flags, (n) => new Uint8Array(n))
      this.#accessed = grow(this.#accessed, (n) => new Uint8Array(n))
    }
    return this.#next++
  }
}
