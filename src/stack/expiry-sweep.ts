/** What the sweep needs of a tier. */
export interface Sweepable {
  readonly expiring: number
  sweep(cursor: number, budget: number, now: number): number
}

// Expired entries dropped per slice: about a millisecond of work.
const SWEEP_SLICE = 1024

/**
 * Where the expiry sweep stands across the in-memory tiers, so that one pass
 * can be cut into slices that each do a bounded amount of work. The disk
 * tier expires its own entries, lazily and in compaction.
 */
export class ExpirySweep {
  readonly #tiers: readonly Sweepable[]
  readonly #now: () => number
  #tier = 0
  #cursor = 0

  constructor(tiers: readonly Sweepable[], now: () => number) {
    this.#tiers = tiers
    this.#now = now
  }

  /** Whether any entry carries an expiry. */
  get pending(): boolean {
    return this.#tiers.some((tier) => tier.expiring !== 0)
  }

  /** One bounded slice of the pass; true while the pass has more to do. */
  slice(): boolean {
    const tier = this.#tiers[this.#tier]
    if (tier.expiring !== 0) {
      this.#cursor = tier.sweep(this.#cursor, SWEEP_SLICE, this.#now())
      if (this.#cursor !== -1) return true
    }
    this.#cursor = 0
    if (++this.#tier < this.#tiers.length) return true
    this.#tier = 0
    return false
  }

  /** Starts the next pass from the beginning: the tiers were emptied. */
  restart(): void {
    this.#tier = 0
    this.#cursor = 0
  }
}
