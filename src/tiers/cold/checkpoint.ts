import type { LowerEntry, MemoryImage } from '../lower-tier.js'
import type { Staging } from './staging.js'
import { isOwedTombstone, type Supersessions } from './supersessions.js'
import { yieldToLoop } from './yield.js'

const CHECKPOINT_BATCH = 256
const CLOSE_REPORT_SLICE = 4096

/** What writing memory down needs of the disk tier. */
export interface CheckpointHost {
  readonly staging: Staging
  readonly superseded: Supersessions
  /** Whether the open store itself holds the key's current value: written, not just staged. */
  onDisk(key: string): boolean
  /** Whether an encoded value of this size fits one segment together with the key's current tags. */
  fitsWithTags(key: string, encodedBytes: number): boolean
  /** Writes a batch of staged entries and owed tombstones; rejects as the write fails. */
  write(batch: readonly LowerEntry[]): Promise<void>
  /** Waits for room in the inbox, or rejects with E_BACKPRESSURE, as its option says. */
  admit(): Promise<void>
}

/**
 * Writes every entry the disk does not hold yet: staged demotions, then
 * memory's, staged on the way so that a write of the key meanwhile wins,
 * with the tombstones still owed, and paid by no value of it, in the last batch. With `admit`, each batch
 * of memory's entries waits for room in the inbox (or is refused) before it
 * is staged; a close does not wait.
 */
export async function writeMemoryDown(host: CheckpointHost, memory: MemoryImage, admit: boolean): Promise<void> {
  const { staging, superseded } = host
  // Written with the last batch: a tombstone that memory's newer value paid meanwhile is no longer owed, and is skipped.
  const owed: LowerEntry[] = []
  for (const tombstone of superseded.owed()) if (!staging.has(tombstone.key)) owed.push(tombstone)
  let batch: LowerEntry[] = [...staging.values()]
  const entries = memory.entries()[Symbol.iterator]()
  for (let more = true; more; ) {
    if (admit) await host.admit()
    // Staged in one synchronous run after the wait, so that every entry is the key's value as it is now.
    for (let next = entries.next(); ; next = entries.next()) {
      if (next.done === true) {
        more = false
        break
      }
      const entry = next.value
      if (host.onDisk(entry.key)) continue
      if (!host.fitsWithTags(entry.key, entry.stored.byteLength)) {
        // It stays in memory, but cannot pay for the older disk copy it masks.
        const tombstone = superseded.owedFor(entry.key)
        if (tombstone !== undefined) batch.push(tombstone)
        continue
      }
      staging.force(entry)
      batch.push(entry)
      if (batch.length >= CHECKPOINT_BATCH) break
    }
    await host.write(more ? batch : unpaid(owed, batch).concat(batch))
    batch = []
  }
}

/**
 * The owed tombstones that no value in `batch` pays. A value pays its key's
 * tombstone by landing: writing the tombstone too would only open a window,
 * between the two records (a batch may span segments), where a crash leaves
 * the key with neither its older value nor its newer one.
 */
function unpaid(owed: readonly LowerEntry[], batch: readonly LowerEntry[]): LowerEntry[] {
  if (owed.length === 0) return []
  const valued = new Set<string>()
  for (const entry of batch) if (!isOwedTombstone(entry)) valued.add(entry.key)
  return owed.filter((tombstone) => !valued.has(tombstone.key))
}

/**
 * Memory is about to go: every entry it holds that the closing checkpoint
 * did not leave on disk (the disk's size bound pushed it out again, or it
 * does not fit a segment with its tags) leaves the cache now, and says so.
 */
export async function reportLeftAtClose(host: CheckpointHost, memory: MemoryImage, left: (key: string) => void): Promise<void> {
  let n = 0
  for (const key of memory.keys()) {
    if (!host.onDisk(key)) left(key)
    if (++n % CLOSE_REPORT_SLICE === 0) await yieldToLoop()
  }
}
