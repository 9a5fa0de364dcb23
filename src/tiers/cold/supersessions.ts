import type { LowerEntry } from '../lower-tier.js'

/**
 * A tombstone the disk owes: the key was written above, and its disk copy
 * must be dead on disk too, not only masked in memory, before the mask that
 * asked for it (`masking`) can be lifted. Travels with the demotions.
 */
export interface OwedTombstone extends LowerEntry {
  masking: number
}

export const isOwedTombstone = (entry: LowerEntry): entry is OwedTombstone => 'masking' in entry

const EMPTY = new Uint8Array(0)

/**
 * Which disk copies are no longer their key's value, and what the disk owes
 * for them: the cold tier's memory of writes and deletes made above it.
 *
 * - a masked key's disk copy is older than its current value (or its value
 *   was deleted); each masking has a number, so that only the write or
 *   tombstone it asked for lifts it;
 * - a write's masking owes the disk a tombstone, paid by the newer value
 *   reaching the disk or by the tombstone itself;
 * - after a clear the disk refused, every key it held is blind: its records
 *   are from before the clear, and read as absent until written anew.
 */
export class Supersessions {
  readonly #masked = new Map<string, number>()
  readonly #owed = new Map<string, OwedTombstone>()
  #blind: Set<string> | undefined
  #maskings = 0

  /** Whether the key's disk copy, if any, is not its current value. */
  hides(key: string): boolean {
    return this.#masked.has(key) || this.#blind?.has(key) === true
  }

  isMasked(key: string): boolean {
    return this.#masked.has(key)
  }

  /** A write of the key above: its disk copy is masked and owed a tombstone. */
  written(key: string): void {
    const masking = ++this.#maskings
    this.#masked.set(key, masking)
    this.#owed.set(key, { key, stored: EMPTY, expiresAt: 0, masking })
  }

  /** A delete of the key, which writes its own tombstone: returns the masking to lift once it is down. */
  deleting(key: string): number {
    const masking = ++this.#maskings
    this.#masked.set(key, masking)
    this.#owed.delete(key)
    return masking
  }

  /** The delete's tombstone is down: its masking is lifted, unless a newer one replaced it. */
  deleted(key: string, masking: number): void {
    if (this.#masked.get(key) === masking) this.#masked.delete(key)
    this.#blind?.delete(key)
  }

  /** The delete's tombstone could not be written: still owed, while its masking stands. */
  deleteFailed(key: string, masking: number): void {
    if (this.#masked.get(key) === masking) this.#owed.set(key, { key, stored: EMPTY, expiresAt: 0, masking })
  }

  /** The key's current value is on disk: nothing older can be read, nothing is owed. */
  paid(key: string): void {
    this.#masked.delete(key)
    this.#owed.delete(key)
    this.#blind?.delete(key)
  }

  /** An owed tombstone is on disk, or needs none: its mask, unless a newer one replaced it, is lifted. */
  settle(owed: OwedTombstone): void {
    this.#owed.delete(owed.key)
    this.#blind?.delete(owed.key)
    if (this.#masked.get(owed.key) === owed.masking) this.#masked.delete(owed.key)
  }

  owedFor(key: string): OwedTombstone | undefined {
    return this.#owed.get(key)
  }

  isOwed(entry: OwedTombstone): boolean {
    return this.#owed.get(entry.key) === entry
  }

  get owedCount(): number {
    return this.#owed.size
  }

  owed(): IterableIterator<OwedTombstone> {
    return this.#owed.values()
  }

  /** A clear the disk refused: these keys' records are from before it. */
  blind(keys: Iterable<string>): void {
    this.#blind ??= new Set()
    for (const key of keys) this.#blind.add(key)
  }

  /** A clear went through: nothing from before it is left to hide. */
  cleared(): void {
    this.#blind = undefined
  }
}
