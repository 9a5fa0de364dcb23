import type { CacheError } from '../../errors.js'
import type { LowerEntry } from '../lower-tier.js'
import type { ColdStore } from './cold-store.js'
import type { Staging } from './staging.js'
import { isOwedTombstone, type Supersessions } from './supersessions.js'
import type { ColdTags, WriteOutcome } from './tier-contract.js'
import type { ColdPut } from './types.js'

const NO_ENTRIES: LowerEntry[] = []
const EMPTY = new Uint8Array(0)

/** What a batch write reads and changes of the tier around it. */
export interface BatchState {
  readonly staging: Staging
  readonly superseded: Supersessions
  readonly tags: ColdTags | undefined
  fitsWith(key: string, encodedBytes: number, tags: readonly string[]): boolean
  ioError(error: unknown, what: string): CacheError
}

/**
 * Writes a batch of staged entries and owed tombstones: one group-committed
 * write. Entries replaced or masked since they were staged are skipped, as
 * are tombstones no longer owed; a tombstone for a key the disk does not
 * hold (nor is writing) is not written at all. An entry still staged when
 * its write lands is the key's current value on disk, and its mask, if
 * any, is lifted; so is the mask that asked for a tombstone that landed.
 * Each value is written with the key's tags as they are now (the staged
 * entry is the key's current value, so these are its tags). A failed write
 * drops its values from staging (they are in `dropped`) and keeps its
 * tombstones owed.
 */
export async function writeBatch(store: ColdStore, state: BatchState, batch: readonly LowerEntry[]): Promise<WriteOutcome> {
  const { staging, superseded } = state
  const live: LowerEntry[] = []
  const puts: ColdPut[] = []
  let tooLarge = NO_ENTRIES
  for (const entry of batch) {
    if (isOwedTombstone(entry)) {
      if (!superseded.isOwed(entry)) continue
      if (!store.has(entry.key) && !store.writing(entry.key)) {
        superseded.settle(entry)
        continue
      }
      live.push(entry)
      puts.push({ key: entry.key, value: EMPTY, expiresAt: 0, tombstone: true })
      continue
    }
    if (staging.get(entry.key) !== entry) continue
    const tags = state.tags?.of(entry.key)
    if (tags !== undefined && !state.fitsWith(entry.key, entry.stored.byteLength, tags)) {
      staging.remove(entry.key)
      if (tooLarge === NO_ENTRIES) tooLarge = []
      tooLarge.push(entry)
      continue
    }
    live.push(entry)
    puts.push({ key: entry.key, value: entry.stored, expiresAt: entry.expiresAt, tags })
  }
  if (live.length === 0) return { tooLarge, dropped: NO_ENTRIES }
  try {
    await store.putMany(puts)
  } catch (error) {
    const dropped: LowerEntry[] = []
    for (const entry of live) {
      if (isOwedTombstone(entry) || staging.get(entry.key) !== entry) continue
      staging.remove(entry.key)
      dropped.push(entry)
    }
    return { tooLarge, dropped, error: state.ioError(error, 'write demoted entries to') }
  }
  for (const entry of live) {
    if (isOwedTombstone(entry)) {
      if (superseded.isOwed(entry)) superseded.settle(entry)
      continue
    }
    if (staging.get(entry.key) !== entry) continue
    staging.remove(entry.key)
    superseded.paid(entry.key)
  }
  return { tooLarge, dropped: NO_ENTRIES }
}
