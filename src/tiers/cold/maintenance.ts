import type { ColdIndex } from './cold-index.js'
import { SegmentRewrite, type RewriteContext } from './compaction.js'
import type { ResolvedColdOptions } from './options.js'
import type { Segment, SegmentSet } from './segment-set.js'
import type { ColdSegmentWriter } from './segment-writer.js'
import { yieldToLoop } from './yield.js'

/** Index entries looked at between two yields to the event loop by the sweep of dropped segments. */
const SWEEP_SLICE_KEYS = 4096

/**
 * Size enforcement and compaction, one segment job at a time, advanced by the
 * caller's `maintain()` ticks. Calls are chained, never concurrent.
 */
export class ColdMaintenance {
  readonly #o: ResolvedColdOptions
  readonly #segments: SegmentSet
  readonly #ctx: RewriteContext
  #chain: Promise<boolean> = Promise.resolve(false)
  #job: SegmentRewrite | undefined
  #stopped = false
  #sweep: Iterator<string> | undefined
  #sweepDue = false
  evictions = 0
  compactions = 0

  constructor(o: ResolvedColdOptions, segments: SegmentSet, index: ColdIndex, writer: ColdSegmentWriter) {
    this.#o = o
    this.#segments = segments
    this.#ctx = { segments, index, writer, now: o.now }
  }

  /**
   * About `budget` bytes of segment data: first evicting the oldest segments
   * while disk use is over maxBytes minus one segment, then compacting the deadest segment past
   * the threshold. Resolves true while more is due.
   */
  run(budget: number): Promise<boolean> {
    this.#chain = this.#chain.catch(() => false).then(() => this.#slice(budget))
    return this.#chain
  }

  /** Drops the job in hand (clear); the next run picks afresh. */
  async reset(): Promise<void> {
    await this.#chain.catch(() => undefined)
    await this.#job?.abandon()
    this.#job = undefined
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.reset()
  }

  /**
   * The hard bound, called by the writer before each batch: disk stays within
   * maxBytes plus one segment even when maintain() falls behind, by dropping
   * the oldest segment whole (no reinsertion on this path). Its index entries
   * go stale and read as misses; nothing older than it exists.
   */
  async makeRoom(bytes: number): Promise<void> {
    const limit = this.#o.maxBytes + this.#o.segmentBytes
    while (this.#segments.diskBytes + bytes > limit) {
      const oldest = this.#segments.oldestSealed()
      if (oldest === undefined) return
      await this.#segments.drop(oldest)
      this.#ctx.writer.markDirDirty()
      this.evictions++
      this.#sweep = undefined
      this.#sweepDue = true
    }
  }

  /** Runs the sweep of index entries whose segment the hard bound dropped to its end. */
  async settleDropped(): Promise<void> {
    while (this.#sweepDue) await this.#sweepSlice(SWEEP_SLICE_KEYS)
  }

  /** Forgets index entries whose segment the hard bound dropped, a slice at a time. */
  async #sweepSlice(keys: number): Promise<void> {
    const { index } = this.#ctx
    this.#sweep ??= index.keys()
    for (let n = 0; n < keys; n++) {
      const next = this.#sweep.next()
      if (next.done === true) {
        this.#sweep = undefined
        this.#sweepDue = false
        return
      }
      const seg = index.segOf(next.value)
      if (seg >= 0 && this.#segments.get(seg) === undefined) index.forget(next.value)
    }
    await yieldToLoop()
  }

  async #slice(budget: number): Promise<boolean> {
    let left = budget
    if (this.#sweepDue) {
      await this.#sweepSlice(SWEEP_SLICE_KEYS)
      left -= 4096 * 64
    }
    while (left > 0 && !this.#stopped) {
      this.#job ??= this.#pick()
      if (this.#job === undefined) return this.#sweepDue
      let step: { done: boolean; processed: number }
      try {
        step = await this.#job.step(left)
      } catch (e) {
        // A copy failed to write: keep the segment, start over on a later tick.
        await this.#job.abandon()
        this.#job = undefined
        throw e
      }
      const { done, processed } = step
      left -= Math.max(processed, 1)
      if (done) {
        if (this.#job.mode === 'evict') this.evictions++
        else this.compactions++
        this.#job = undefined
      }
    }
    return !this.#stopped && (this.#sweepDue || this.#job !== undefined || this.#pick() !== undefined)
  }

  #pick(): SegmentRewrite | undefined {
    // Down to one segment under maxBytes: the writes until the next tick then
    // fit under the hard bound without dropping a segment unread.
    if (this.#segments.diskBytes > this.#o.maxBytes - this.#o.segmentBytes) {
      const oldest = this.#segments.oldestSealed()
      if (oldest !== undefined) return new SegmentRewrite(this.#ctx, oldest, 'evict')
    }
    let best: Segment | undefined
    let bestDead = this.#o.compactionThreshold
    for (const s of this.#segments.all()) {
      if (s.state !== 'sealed' || s.size === 0) continue
      const dead = s.dead / s.size
      if (dead >= bestDead) {
        best = s
        bestDead = dead
      }
    }
    return best === undefined ? undefined : new SegmentRewrite(this.#ctx, best, 'compact')
  }
}
