import type { ColdStore } from './cold-store.js'
import type { ColdTags } from './tier-contract.js'
import { yieldToLoop } from './yield.js'

/** Tag lists restored to the tag index between two yields to the event loop (about 2 ms; V8 may add a rehash of the index's Map). */
const RESTORE_SLICE = 1024

/**
 * Hands the tags the store found to the tag index, in slices, before the
 * store is announced open. A key with a newer value (or a delete) above the
 * disk's keeps that one's tags (`newer`); after a clear() nothing the disk
 * held counts (`dropped`).
 */
export async function restoreTags(store: ColdStore, tags: ColdTags, newer: (key: string) => boolean, dropped: () => boolean): Promise<void> {
  let n = 0
  for (const [key, list] of store.takeRecoveredTags()) {
    if (dropped()) return
    if (!newer(key) && store.has(key)) tags.restore(key, list)
    if (++n % RESTORE_SLICE === 0) await yieldToLoop()
  }
}
