import type { Letter } from '../../../streams/inbox.js'
import type { LowerEntry } from '../lower-tier.js'
import type { ColdReadOptions } from './cold-reads.js'
import type { ColdStore } from './cold-store.js'
import type { ColdHit } from './types.js'

/** Every read that needs no I/O and finds nothing answers with this one settled promise. */
export const MISS: Promise<undefined> = Promise.resolve(undefined)

// The cache's tag index already has the key's tags: the record's need no decoding here.
const NO_TAGS: ColdReadOptions = { tags: false }

/** How the tier settles a read once the store has answered: whether the bytes are still the key's value. */
export type SettleRead = (read: DiskRead, error: unknown, hit: ColdHit | undefined) => void

/** One read of the disk, as a letter in the tier's inbox: its work, and the caller's promise to settle. */
export class DiskRead implements Letter<ColdHit | undefined> {
  units = 0

  constructor(
    readonly key: string,
    /** The tier's count of clears when the read began: a clear since makes what it finds stale. */
    readonly clears: number,
    readonly store: ColdStore,
    readonly settle: SettleRead,
    readonly resolve: (entry: LowerEntry | undefined) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  work(): Promise<ColdHit | undefined> {
    return this.store.get(this.key, NO_TAGS)
  }

  done(error: unknown, hit: ColdHit | undefined): void {
    this.settle(this, error, hit)
  }
}
