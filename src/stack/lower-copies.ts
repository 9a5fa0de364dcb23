import type { LowerTier } from '../tiers/lower-tier.js'

/** The reads below memory under way: a write, delete or clear overtakes them, so that what they find is not moved up. */
export interface ReadsUnderWay {
  supersede(key: string): void
  supersedeAll(): void
}

/** What a delete found and owes below memory. */
export interface Invalidation {
  /** Whether some lower tier held the key's live value (a tier not yet open holds nothing). */
  held: boolean
  /** The tombstones' writes: resolve with whether any tier held the value. Undefined when none surely did. */
  tombstone: Promise<boolean> | undefined
}

/**
 * The copies the tiers below memory hold, once memory has written over
 * them: a write masks them, a delete invalidates them, a clear empties the
 * tiers, and an entry that leaves memory releases what its write owes. In
 * each case reads under way of the key are overtaken first.
 */
export class LowerCopies {
  readonly #tiers: readonly LowerTier[]
  readonly #reads: ReadsUnderWay

  constructor(tiers: readonly LowerTier[], reads: ReadsUnderWay) {
    this.#tiers = tiers
    this.#reads = reads
  }

  /** The key was written above: no copy below may be read again. */
  mask(key: string): void {
    this.#reads.supersede(key)
    for (const tier of this.#tiers) tier.mask(key)
  }

  /** The key was deleted: each tier's copy masked at once, its tombstone written. */
  invalidate(key: string, now: number): Invalidation {
    this.#reads.supersede(key)
    let held = false
    let tombstone: Promise<boolean> | undefined
    for (const tier of this.#tiers) {
      held = tier.holds(key, now) || held
      const removed = tier.invalidate(key)
      if (removed !== undefined) tombstone = tombstone === undefined ? removed : either(tombstone, removed)
    }
    return { held, tombstone }
  }

  /** Empties every tier below memory. */
  clear(): Promise<void> {
    this.#reads.supersedeAll()
    return Promise.all(this.#tiers.map((tier) => tier.clear())).then(() => undefined)
  }

  /** The key's newer value left memory without coming down: what its write owes goes down now. */
  released(key: string): void {
    for (const tier of this.#tiers) tier.released(key)
  }
}

const either = (a: Promise<boolean>, b: Promise<boolean>): Promise<boolean> => Promise.all([a, b]).then(([x, y]) => x || y)
