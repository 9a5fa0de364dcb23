import { readAt } from './segment-scan.js'
import type { SegmentSet } from './segment-set.js'

/**
 * Positioned reads on the segments' open handles (async, on libuv's pool),
 * at most `concurrency` in flight for the whole store so a large getMany
 * cannot flood the pool that other I/O in the process shares.
 */
export class SegmentReader {
  readonly #segments: SegmentSet
  readonly #limit: number
  #inFlight = 0
  #waiting: (() => void)[] = []
  reads = 0

  constructor(segments: SegmentSet, concurrency: number) {
    this.#segments = segments
    this.#limit = concurrency
  }

  /** The bytes at [offset, offset + length) of a segment; undefined when the segment is gone. */
  async read(segId: number, offset: number, length: number): Promise<Buffer | undefined> {
    // A finished read hands its slot straight to the next waiter.
    if (this.#inFlight >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#inFlight++
    const seg = this.#segments.acquire(segId)
    try {
      if (seg === undefined) return undefined
      this.reads++
      return await readAt(seg.fh, offset, length)
    } finally {
      if (seg !== undefined) this.#segments.release(seg)
      const next = this.#waiting.shift()
      if (next) next()
      else this.#inFlight--
    }
  }
}
