import type { LowerEntry } from '../lower-tier.js'
import type { ColdStore } from './cold-store.js'
import type { Supersessions } from './supersessions.js'

/**
 * What the disk owes for what happened above it while it could not take
 * it: a clear it did not take, and the tombstones of writes and deletes
 * (kept with their masks in `Supersessions`). Paid before anything else
 * once the disk works again; until then the masks hide every older copy.
 */
export class DiskDebts {
  #clearOwed = false
  readonly #superseded: Supersessions
  readonly #write: (batch: readonly LowerEntry[]) => Promise<void>

  constructor(superseded: Supersessions, write: (batch: readonly LowerEntry[]) => Promise<void>) {
    this.#superseded = superseded
    this.#write = write
  }

  /** A clear the disk has not taken (it failed, or the store never opened). */
  get clearOwed(): boolean {
    return this.#clearOwed
  }

  /** A clear the disk refused: what the open store holds, if any, is from before it and reads as absent. */
  clearFailed(held: Iterable<string> | undefined): void {
    if (held !== undefined) this.#superseded.blind(held)
    this.#clearOwed = true
  }

  /** The clear owed, then the tombstones. */
  async pay(store: ColdStore): Promise<void> {
    if (this.#clearOwed) await this.payClear(store)
    if (this.#superseded.owedCount > 0) await this.#write([...this.#superseded.owed()])
  }

  async payClear(store: ColdStore): Promise<void> {
    await store.clear()
    this.forgiven()
  }

  /** The disk's copies are gone (cleared, or removed with its files): nothing from before is left to hide. */
  forgiven(): void {
    this.#clearOwed = false
    this.#superseded.cleared()
  }
}
