import type { SlotValues } from './slot-values.js'

/** The slab column of a slot whose bytes are a buffer of their own. */
const OWN = 0xffffffff
/** The slab column of a slot that holds nothing. */
const EMPTY = 0xfffffffe
/** Before each entry's bytes in a slab: their length and the slot's number, so that compaction walks a slab by itself. */
export const RECORD_HEADER = 8
const MAX_SLAB_BYTES = 1 << 20
const MIN_SLAB_BYTES = 16 << 10
/** Slabs per `maxBytes` at least, so that a small tier's slack stays a small share of it. */
const SLABS_PER_BOUND = 64
/** Compaction is scheduled once freed bytes in slabs pass this share of the live ones (and two slabs)… */
const SCHEDULED_SHARE = 1 / 16
/** …and runs until they are under this share (and one slab). */
const DONE_SHARE = 1 / 32
/** Past this share (and four slabs), each write first reclaims about twice its bytes: the bound when no slice has run. */
const WRITE_SHARE = 1 / 8
/** A slab fuller than this (live bytes over bytes handed out) is not worth copying out. */
const WORTH_SHARE = 15 / 16
/** Slabs emptied by scheduled compaction kept for the next ones, rather than allocated again. */
const MAX_SPARE_SLABS = 2

/** What the arena holds, for stats, docs and tests. */
export interface ArenaFigures {
  /** Slabs allocated, the spare ones included. */
  slabs: number
  /** Bytes of the entries held in slabs, headers included. */
  liveBytes: number
  /** Bytes of slabs handed out and freed since, not yet reclaimed by compaction. */
  garbageBytes: number
  /** Bytes of the values too large for a slab, each in a buffer of its own. */
  ownBytes: number
  /** Bytes compaction has copied so far, headers included. */
  copiedBytes: number
}

/**
 * The warm tier's bytes: copied into large slabs allocated off the V8 heap
 * (each entry after an 8-byte header), found by slab and offset in typed
 * columns indexed by slot, so that an entry costs no object of its own on
 * the heap (a Buffer per entry cost ~100 B of heap in its handle alone). A
 * value larger than a quarter of a slab keeps the buffer it came in.
 *
 * Allocation only bumps through the current slab. Freed bytes are counted
 * per slab; compaction copies the live entries of the emptiest slab into
 * the current one: in slices on the scheduler (`compactSlice`, run by the
 * owner when told `wantsCompaction`), and, should freed bytes pile up with
 * no slice run (a long synchronous burst), a little before each write.
 *
 * Bytes a view shows never change within a synchronous call: a slab emptied
 * by frees or by a write's compaction is let go to the GC, and only one
 * emptied by a scheduled slice is reused. So `at` gives a view valid until
 * the next compaction slice; a caller that keeps bytes longer takes
 * `lasting`. `stamps` change on every write and free of a slot, never when
 * compaction moves its bytes: (slot, stamp) names one value of one entry.
 */
export class ByteArena implements SlotValues<Uint8Array> {
  readonly slabBytes: number
  /** Values longer than this keep a buffer of their own; a compaction slice copies no more. */
  readonly sliceBytes: number
  /** Each slot's write count (mod 2^32): bumped on every write and free, kept when compaction moves the bytes. */
  stamps: Uint32Array
  #slab: Uint32Array
  /** Where the slot's bytes start in its slab, after their header. */
  #offset: Uint32Array
  #own = new Map<number, Uint8Array>()
  #ownBytes = 0
  // Per slab, by slab number: short arrays (a tier holds at most a few thousand slabs).
  #slabs: (Buffer | undefined)[] = []
  #live: number[] = []
  #filled: number[] = []
  #freeNumbers: number[] = []
  #spare: Buffer[] = []
  #current = -1
  #top = 0
  #liveBytes = 0
  #filledBytes = 0
  #copiedBytes = 0
  /** Garbage left when no slab was worth copying out: compaction waits for as much again. */
  #unreclaimable = 0
  /** The slab being emptied, and where in it the walk is; -1 for none. */
  #victim = -1
  #walk = 0
  readonly #wantsCompaction: () => void

  /** `maxBytes`: the tier's bound, which sizes the slabs; `wantsCompaction`: told when freed bytes pile up. */
  constructor(capacity: number, maxBytes: number, wantsCompaction: () => void = () => {}) {
    this.slabBytes = slabBytesFor(maxBytes)
    this.sliceBytes = this.slabBytes / 4
    this.#wantsCompaction = wantsCompaction
    this.stamps = new Uint32Array(capacity)
    this.#slab = new Uint32Array(capacity)
    this.#offset = new Uint32Array(capacity)
  }

  /** A view of the slot's bytes: valid until the next compaction slice. */
  at(slot: number): Uint8Array {
    const slab = this.#slab[slot]
    if (slab === OWN) return this.#own.get(slot) as Uint8Array
    const buffer = this.#slabs[slab] as Buffer
    const offset = this.#offset[slot]
    return new Uint8Array(buffer.buffer, offset, readLength(buffer, offset - RECORD_HEADER))
  }

  /** The slot's bytes, for a caller that keeps them past its call: a copy, unless they are a buffer of their own (never changed). */
  lasting(slot: number): Uint8Array {
    const slab = this.#slab[slot]
    if (slab === OWN) return this.#own.get(slot) as Uint8Array
    const buffer = this.#slabs[slab] as Buffer
    const offset = this.#offset[slot]
    const copy = Buffer.allocUnsafe(readLength(buffer, offset - RECORD_HEADER))
    buffer.copy(copy, 0, offset, offset + copy.length)
    return copy
  }

  stampAt(slot: number): number {
    return this.stamps[slot]
  }

  /** The length of the slot's bytes, without a view of them. */
  lengthAt(slot: number): number {
    const slab = this.#slab[slot]
    if (slab === OWN) return (this.#own.get(slot) as Uint8Array).byteLength
    return readLength(this.#slabs[slab] as Buffer, this.#offset[slot] - RECORD_HEADER)
  }

  put(slot: number, bytes: Uint8Array): void {
    this.stamps[slot]++
    const length = bytes.byteLength
    if (length > this.sliceBytes - RECORD_HEADER) {
      this.#slab[slot] = OWN
      this.#own.set(slot, bytes)
      this.#ownBytes += length
      return
    }
    const record = RECORD_HEADER + length
    if (this.#excess() >= Math.max(4 * this.slabBytes, this.#liveBytes * WRITE_SHARE)) this.#compact(2 * record, false)
    const at = this.#allocate(record)
    const buffer = this.#slabs[this.#current] as Buffer
    buffer.set(bytes, at + RECORD_HEADER)
    this.#place(slot, at, length)
  }

  free(slot: number): void {
    this.stamps[slot]++
    const slab = this.#slab[slot]
    this.#slab[slot] = EMPTY
    if (slab === OWN) {
      this.#ownBytes -= (this.#own.get(slot) as Uint8Array).byteLength
      this.#own.delete(slot)
      return
    }
    const record = RECORD_HEADER + readLength(this.#slabs[slab] as Buffer, this.#offset[slot] - RECORD_HEADER)
    this.#live[slab] -= record
    this.#liveBytes -= record
    // Let go, not reused: a caller may still read the bytes it just freed within its call.
    if (this.#live[slab] === 0 && slab !== this.#current) this.#drop(slab, false)
    else if (this.wantsCompaction) this.#wantsCompaction()
  }

  grow(capacity: number): void {
    if (capacity <= this.#slab.length) return
    this.stamps = grown(this.stamps, capacity)
    this.#slab = grown(this.#slab, capacity)
    this.#offset = grown(this.#offset, capacity)
  }

  reset(capacity: number): void {
    this.stamps = new Uint32Array(capacity)
    this.#slab = new Uint32Array(capacity)
    this.#offset = new Uint32Array(capacity)
    this.#own = new Map()
    this.#ownBytes = 0
    this.#slabs = []
    this.#live = []
    this.#filled = []
    this.#freeNumbers = []
    this.#spare = []
    this.#current = -1
    this.#top = 0
    this.#liveBytes = 0
    this.#filledBytes = 0
    this.#unreclaimable = 0
    this.#victim = -1
  }

  /** Whether enough freed bytes wait in slabs for a scheduled compaction pass. */
  get wantsCompaction(): boolean {
    return this.#excess() >= Math.max(2 * this.slabBytes, this.#liveBytes * SCHEDULED_SHARE)
  }

  get figures(): ArenaFigures {
    return {
      slabs: this.#slabs.length - this.#freeNumbers.length + this.#spare.length,
      liveBytes: this.#liveBytes,
      garbageBytes: this.#filledBytes - this.#liveBytes,
      ownBytes: this.#ownBytes,
      copiedBytes: this.#copiedBytes,
    }
  }

  /**
   * One slice of scheduled compaction: copies at most `sliceBytes` of live
   * entries out of the emptiest slabs. True while freed bytes are still over
   * their share of the live ones and some slab is worth emptying.
   */
  compactSlice(): boolean {
    this.#compact(this.sliceBytes, true)
    return this.#victim !== -1 || (this.#excess() > this.#goal() && this.#chooseVictim())
  }

  /** Forgets the slab being emptied: what was copied out stays copied, and the rest where it is. */
  stopCompaction(): void {
    this.#victim = -1
  }

  /** Freed bytes compaction leaves: under them, no slab is emptied. */
  #goal(): number {
    return Math.max(this.slabBytes, this.#liveBytes * DONE_SHARE)
  }

  #excess(): number {
    const garbage = this.#filledBytes - this.#liveBytes
    return garbage - Math.min(this.#unreclaimable, garbage)
  }

  /**
   * Copies live entries out of the emptiest slabs, never more than `budget`
   * bytes (every record fits in a slice's), until freed bytes are down to
   * their goal or no slab is worth emptying. `scheduled`: in a slice of its
   * own, where an emptied slab may be kept for reuse.
   */
  #compact(budget: number, scheduled: boolean): void {
    let copied = 0
    while (copied < budget && (this.#victim !== -1 || (this.#excess() > this.#goal() && this.#chooseVictim()))) {
      const victim = this.#victim
      const buffer = this.#slabs[victim] as Buffer
      const end = this.#filled[victim]
      let walk = this.#walk
      while (walk < end) {
        const length = readLength(buffer, walk)
        const record = RECORD_HEADER + length
        const slot = readLength(buffer, walk + 4)
        if (this.#slab[slot] === victim && this.#offset[slot] === walk + RECORD_HEADER) {
          if (copied + record > budget) break
          this.#move(slot, buffer, walk, length)
          copied += record
        }
        walk += record
      }
      this.#walk = walk
      if (walk < end) return
      // Every live entry copied out.
      this.#victim = -1
      this.#drop(victim, scheduled)
    }
  }

  /** The sealed slab with the fewest live bytes, if worth emptying; else notes the garbage as unreclaimable for now. */
  #chooseVictim(): boolean {
    let best = -1
    for (let slab = 0; slab < this.#slabs.length; slab++) {
      if (this.#slabs[slab] === undefined || slab === this.#current) continue
      if (best === -1 || this.#live[slab] < this.#live[best]) best = slab
    }
    if (best === -1 || this.#live[best] > this.#filled[best] * WORTH_SHARE) {
      this.#unreclaimable = this.#filledBytes - this.#liveBytes
      return false
    }
    this.#victim = best
    this.#walk = 0
    return true
  }

  #move(slot: number, from: Buffer, record: number, length: number): void {
    const fromSlab = this.#slab[slot]
    const at = this.#allocate(RECORD_HEADER + length)
    from.copy(this.#slabs[this.#current] as Buffer, at + RECORD_HEADER, record + RECORD_HEADER, record + RECORD_HEADER + length)
    this.#live[fromSlab] -= RECORD_HEADER + length
    this.#liveBytes -= RECORD_HEADER + length
    this.#copiedBytes += RECORD_HEADER + length
    this.#place(slot, at, length)
  }

  /** The slot's bytes are written at `at` of the current slab: its header, columns and counts. */
  #place(slot: number, at: number, length: number): void {
    const slab = this.#current
    const buffer = this.#slabs[slab] as Buffer
    writeWord(buffer, at, length)
    writeWord(buffer, at + 4, slot)
    this.#slab[slot] = slab
    this.#offset[slot] = at + RECORD_HEADER
    this.#live[slab] += RECORD_HEADER + length
    this.#liveBytes += RECORD_HEADER + length
  }

  /** `record` bytes in the current slab, which becomes a new one when they do not fit; their offset. */
  #allocate(record: number): number {
    if (this.#current === -1 || this.#top + record > this.slabBytes) {
      if (this.#current !== -1 && this.#live[this.#current] === 0) this.#drop(this.#current, false)
      this.#current = this.#newSlab()
      this.#top = 0
    }
    const at = this.#top
    this.#top += record
    this.#filled[this.#current] += record
    this.#filledBytes += record
    return at
  }

  #newSlab(): number {
    const buffer = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes)
    const slab = this.#freeNumbers.pop() ?? this.#slabs.length
    this.#slabs[slab] = buffer
    this.#live[slab] = 0
    this.#filled[slab] = 0
    return slab
  }

  /** The slab holds no entry any more: kept for reuse (`recycle`: by a scheduled slice only), or let go. */
  #drop(slab: number, recycle: boolean): void {
    const buffer = this.#slabs[slab] as Buffer
    if (recycle && this.#spare.length < MAX_SPARE_SLABS) this.#spare.push(buffer)
    this.#filledBytes -= this.#filled[slab]
    this.#slabs[slab] = undefined
    this.#freeNumbers.push(slab)
    if (slab === this.#current) this.#current = -1
    if (slab === this.#victim) this.#victim = -1
  }
}

/** A power of two from 16 KiB to 1 MiB, at most a sixty-fourth of `maxBytes`. */
export function slabBytesFor(maxBytes: number): number {
  let bytes = MAX_SLAB_BYTES
  while (bytes > MIN_SLAB_BYTES && bytes * SLABS_PER_BOUND > maxBytes) bytes /= 2
  return bytes
}

// Headers are little-endian words at any offset: a slab packs entries without padding.
const readLength = (buffer: Buffer, at: number): number => (buffer[at] | (buffer[at + 1] << 8) | (buffer[at + 2] << 16) | (buffer[at + 3] << 24)) >>> 0

function writeWord(buffer: Buffer, at: number, word: number): void {
  buffer[at] = word
  buffer[at + 1] = word >>> 8
  buffer[at + 2] = word >>> 16
  buffer[at + 3] = word >>> 24
}

function grown(column: Uint32Array, capacity: number): Uint32Array {
  const bigger = new Uint32Array(capacity)
  bigger.set(column)
  return bigger
}
