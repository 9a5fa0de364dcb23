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

/** How the tier settles a bulk read once the store has answered. */
export type SettleReads = (reads: DiskReads, error: unknown, hits: (ColdHit | undefined)[] | undefined) => void

/**
 * The keys of one `readMany` that the disk may hold, as one letter: one
 * inbox unit and one store call for all of them. `results` already holds
 * what needed no I/O (staged entries); `at` is where each key's goes.
 */
export class DiskReads implements Letter<(ColdHit | undefined)[]> {
  units = 0
  readonly keys: string[] = []
  readonly at: number[] = []
  /** The caller's promise, set when the letter is posted. */
  resolve: (entries: (LowerEntry | undefined)[]) => void = noop
  reject: (error: unknown) => void = noop

  constructor(
    readonly results: (LowerEntry | undefined)[],
    readonly clears: number,
    readonly store: ColdStore,
    readonly settle: SettleReads,
  ) {}

  work(): Promise<(ColdHit | undefined)[]> {
    return this.store.getMany(this.keys, NO_TAGS)
  }

  done(error: unknown, hits: (ColdHit | undefined)[] | undefined): void {
    this.settle(this, error, hits)
  }
}

const noop = (): void => undefined
