import { type BatchState, writeBatch } from './batch-write.js'
import type { ColdStore } from './cold-store.js'
import type { DiskDebts } from './disk-debts.js'
import { yieldToLoop } from './yield.js'

/** What the last resort of a close needs of the disk tier. */
export interface LastResortHost extends BatchState {
  readonly debts: DiskDebts
  /** The key's current value leaves with the disk's files. */
  lost(key: string): void
  reportError(error: unknown): void
}

/**
 * A close whose checkpoint failed (a full disk): memory's newer values are
 * lost with the process, so the older disk copies they hid (or a clear hid)
 * must die with them. On the room of the reserve, the clear owed, then
 * every tombstone owed. Where even that finds no room, every disk copy
 * goes: a cold start, never an older value.
 */
export async function closeOnLastResort(store: ColdStore | undefined, host: LastResortHost): Promise<void> {
  if (store === undefined) return
  const { debts } = host
  try {
    if (debts.clearOwed) {
      await store.releaseReserve()
      await debts.payClear(store)
    }
    await writeOwedOnReserve(store, host)
  } catch (error) {
    host.reportError(error)
    if (!debts.clearOwed) await reportAllLeaving(store, host)
    await store.closeRemovingAll()
    debts.forgiven()
  }
}

/**
 * Frees the store's reserve and writes every tombstone still owed, for keys
 * in memory too, whose newer values are about to be lost. Rejects when even
 * that cannot be written.
 */
async function writeOwedOnReserve(store: ColdStore, state: BatchState): Promise<void> {
  if (state.superseded.owedCount === 0) return
  await store.releaseReserve()
  const outcome = await writeBatch(store, state, [...state.superseded.owed()])
  if (outcome.error !== undefined) throw outcome.error
  await store.sync()
}

/** The disk's current values, about to be removed with the disk's files. */
async function reportAllLeaving(store: ColdStore, host: LastResortHost): Promise<void> {
  let n = 0
  for (const key of store.keys()) {
    if (!host.superseded.hides(key)) host.lost(key)
    if (++n % 1024 === 0) await yieldToLoop()
  }
}
