import type { SchedulerLike, Subscription } from 'rxjs'
import { compact } from '../../streams/compact.js'
import type { ByteArena } from '../tiers/memory/byte-arena.js'

// Ms between the first free that asks for compaction and its first slice.
const COMPACTION_DELAY = 10

/**
 * Runs the warm arena's compaction on the scheduler: a pass when the arena
 * asks for one (freed bytes piled up in its slabs), cut into slices that
 * each copy a bounded number of bytes, with no timer between passes.
 */
export class ArenaCompaction {
  readonly #arena: ByteArena
  readonly #scheduler: SchedulerLike
  #pass: Subscription | undefined

  constructor(arena: ByteArena, scheduler: SchedulerLike) {
    this.#arena = arena
    this.#scheduler = scheduler
  }

  /** Whether a pass is scheduled or under way. */
  get running(): boolean {
    return this.#pass !== undefined
  }

  /** Starts a pass unless one runs or the arena needs none. */
  arm(): void {
    if (this.#pass !== undefined || !this.#arena.wantsCompaction) return
    const pass = compact({ delay: COMPACTION_DELAY, compactSlice: () => this.#arena.compactSlice() }, this.#scheduler).subscribe({
      complete: () => (this.#pass = undefined),
    })
    if (!pass.closed) this.#pass = pass
  }

  /** Stops the pass under way, if any: the tier was emptied, or the cache is closing. */
  stop(): void {
    this.#pass?.unsubscribe()
    this.#pass = undefined
    this.#arena.stopCompaction()
  }
}
