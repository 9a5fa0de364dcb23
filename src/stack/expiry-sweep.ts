import type { SchedulerLike, Subscription } from 'rxjs'
import { expire } from '../../streams/expire.js'

/** What the sweep needs of a tier. */
export interface Sweepable {
  readonly expiring: number
  sweep(cursor: number, budget: number, now: number): number
}

// Expired entries dropped per slice: about a millisecond of work.
const SWEEP_SLICE = 1024
// Ms between two sweeps.
const EXPIRY_SWEEP_PERIOD = 1000

/**
 * The expiry sweep across the in-memory tiers: where it stands, so that one
 * pass can be cut into slices that each do a bounded amount of work, and
 * its timer, which runs only while some entry carries an expiry (a cache
 * without TTLs holds no timer). An entry kept past its expiry as a stale
 * value (read-through's windows) is dropped at the end of its keeping, and
 * told expired then. The disk tier expires its own entries, lazily and in
 * compaction.
 */
export class ExpirySweep {
  readonly #tiers: readonly Sweepable[]
  readonly #scheduler: SchedulerLike
  #tier = 0
  #cursor = 0
  #timer: Subscription | undefined

  constructor(tiers: readonly Sweepable[], scheduler: SchedulerLike) {
    this.#tiers = tiers
    this.#scheduler = scheduler
  }

  /** Entries were written: starts the timer if one of them may expire and none runs. */
  arm(): void {
    if (this.#timer !== undefined || !this.#pending()) return
    this.#timer = expire({ period: EXPIRY_SWEEP_PERIOD, pending: () => this.#pending(), sweepSlice: () => this.#slice() }, this.#scheduler)
      // It ends itself at the first tick with nothing that can expire.
      .subscribe({ complete: () => (this.#timer = undefined) })
  }

  /** Starts the next pass from the beginning: the tiers were emptied. */
  restart(): void {
    this.#tier = 0
    this.#cursor = 0
  }

  /** Stops the timer: the cache is closing, and writes no more. */
  close(): void {
    this.#timer?.unsubscribe()
    this.#timer = undefined
  }

  /** Whether any entry carries an expiry. */
  #pending(): boolean {
    // Asked after every write while no timer runs: a plain loop, no callback.
    for (let i = 0; i < this.#tiers.length; i++) if (this.#tiers[i].expiring !== 0) return true
    return false
  }

  /** One bounded slice of the pass; true while the pass has more to do. */
  #slice(): boolean {
    const tier = this.#tiers[this.#tier]
    if (tier.expiring !== 0) {
      this.#cursor = tier.sweep(this.#cursor, SWEEP_SLICE, this.#scheduler.now())
      if (this.#cursor !== -1) return true
    }
    this.#cursor = 0
    if (++this.#tier < this.#tiers.length) return true
    this.#tier = 0
    return false
  }
}
