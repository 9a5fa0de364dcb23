import { read } from 'node:fs'
import type { Segment, SegmentSet } from './segment-set.js'

/** Reads at most this long go into a reused buffer; longer ones get a buffer of their own. */
export const SLOT_BYTES = 16 * 1024

/**
 * One positioned read. The reader's fields are its own; a subclass adds what
 * the caller needs to finish the read, so a read costs this one object (plus
 * what `fs.read` allocates) instead of a chain of promises.
 */
export class SegmentRead {
  segment: Segment | undefined = undefined
  buf: Buffer | undefined = undefined
  filled = 0

  constructor(
    public seg: number,
    public offset: number,
    public length: number,
  ) {}
}

/**
 * Told once per read, synchronously, when it ends. `buf[0, filled)` holds the
 * bytes, fewer than asked only at end of file; `buf` may be a reused buffer
 * that is overwritten once this returns, so copy whatever is kept. `buf` is
 * undefined when the segment is gone (compaction moved the record or eviction
 * dropped it), or with `error`.
 */
export type ReadDone<R extends SegmentRead> = (r: R, error: Error | null, buf: Buffer | undefined, filled: number) => void

/**
 * Positioned reads on the segments' open fds (callback `fs.read`, one
 * thread-pool round trip each), at most `concurrency` in flight for the whole
 * store so a large getMany cannot flood the pool that other I/O in the
 * process shares. Each slot in flight reads into a buffer kept for reuse, so
 * no read buffer lives only across one round trip (which made them survive
 * scavenges and drove major GCs).
 */
export class SegmentReader<R extends SegmentRead = SegmentRead> {
  readonly #segments: SegmentSet
  readonly #limit: number
  readonly #done: ReadDone<R>
  #inFlight = 0
  // A FIFO as an array and a head index: no per-read closure, no O(n) shift.
  #queue: (R | undefined)[] = []
  #head = 0
  readonly #free: Buffer[] = []
  /** Reads started in this turn of the loop, submitted together at its end (see #pread). */
  #batch: R[] = []
  #flushing = false
  readonly #flush = (): void => this.#submitBatch()
  reads = 0

  constructor(segments: SegmentSet, concurrency: number, done: ReadDone<R>) {
    this.#segments = segments
    this.#limit = concurrency
    this.#done = done
  }

  /** Starts the read, or queues it behind `concurrency` others; `done` is told when it ends (possibly before this returns). */
  submit(r: R): void {
    if (this.#inFlight >= this.#limit) {
      this.#queue.push(r)
      return
    }
    this.#inFlight++
    if (!this.#start(r)) this.#next()
  }

  /** On a held slot: true when a read is now in flight, false when `r` ended at once (its segment is gone). */
  #start(r: R): boolean {
    const seg = this.#segments.acquire(r.seg)
    if (seg === undefined) {
      this.#done(r, null, undefined, 0)
      return false
    }
    r.segment = seg
    r.buf = r.length <= SLOT_BYTES ? (this.#free.pop() ?? Buffer.allocUnsafeSlow(SLOT_BYTES)) : Buffer.allocUnsafe(r.length)
    r.filled = 0
    this.reads++
    this.#pread(r)
    return true
  }

  /**
   * Submits the read at the end of this turn of the loop, with every other
   * read started in it. While this thread is busy the pool's threads go to
   * sleep, and a submission to a sleeping pool wakes a thread (a futex call,
   * most of a read's cost on the main thread); submitted together, the reads
   * of one turn wake a few threads, which drain the rest.
   */
  #pread(r: R): void {
    this.#batch.push(r)
    if (this.#flushing) return
    this.#flushing = true
    setImmediate(this.#flush)
  }

  #submitBatch(): void {
    const batch = this.#batch
    this.#batch = []
    this.#flushing = false
    for (const r of batch) this.#submitRead(r)
  }

  #submitRead(r: R): void {
    // The segment is held, so its fd stays open until the read ends.
    read(r.segment!.fh.fd, r.buf!, r.filled, r.length - r.filled, r.offset + r.filled, (error, bytesRead) => this.#onRead(r, error, bytesRead))
  }

  #onRead(r: R, error: Error | null, bytesRead: number): void {
    if (error === null && bytesRead > 0 && r.filled + bytesRead < r.length) {
      r.filled += bytesRead
      this.#submitRead(r)
      return
    }
    if (error === null) r.filled += bytesRead
    const buf = r.buf!
    this.#segments.release(r.segment!)
    r.segment = undefined
    r.buf = undefined
    try {
      this.#done(r, error, error === null ? buf : undefined, r.filled)
    } finally {
      // Only now may another read overwrite it: `done` has copied what it keeps.
      if (r.length <= SLOT_BYTES) this.#free.push(buf)
      this.#next()
    }
  }

  /** Hands the slot just freed to the next queued read, or gives it back. */
  #next(): void {
    while (this.#head < this.#queue.length) {
      const r = this.#queue[this.#head]!
      this.#queue[this.#head++] = undefined
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0
        this.#head = 0
      }
      if (this.#start(r)) return
    }
    this.#inFlight--
  }
}
