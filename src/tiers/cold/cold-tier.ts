import { CacheError, isCacheError } from '../../errors.js'
import type { ColdLeaveReason } from './cold-index.js'
import type { ColdReadOptions } from './cold-reads.js'
import { ColdStore } from './cold-store.js'
import { recordLength, TAGS_LENGTH_BYTES } from './record-format.js'
import { encodedTagsLength } from './tag-codec.js'
import { isOwedTombstone, type OwedTombstone, Supersessions } from './supersessions.js'
import type { ColdLeft, ColdTags, ColdTierOptions, ColdTierStats, WriteOutcome } from './tier-contract.js'
import type { ColdEntry, ColdPut } from './types.js'
import { yieldToLoop } from './yield.js'

export type { ColdEntry }
export type { OwedTombstone }
export type { ColdLeft, ColdTags, ColdTierOptions, ColdTierStats, WriteOutcome }

const NO_ENTRIES: ColdEntry[] = []
const EMPTY = new Uint8Array(0)

const NO_TAGS: ColdReadOptions = { tags: false }

/** A value the store let go, judged at the end of the run. */
interface Leave {
  reason: ColdLeaveReason
  tagged: boolean
}

/** Tag lists restored to the tag index between two yields to the event loop (about 2 ms; V8 may add a rehash of the index's Map). */
const RESTORE_SLICE = 1024

/**
 * The cold tier as the stack sees it: an actor around the `ColdStore` that
 * keeps the one invariant the stack relies on, **a key's disk copy is read
 * only while it is the key's current value**:
 *
 * - demotions are staged in memory (readable at once) until their batch is
 *   written, so an entry is never in no tier while it moves down;
 * - a write of a key masks its disk copy and owes the disk a tombstone for
 *   it. The newer value pays the debt when it reaches the disk; if it leaves
 *   memory without doing so (it expired, or was dropped), the tombstone goes
 *   down with the next batch, and every checkpoint writes those still owed,
 *   so that an older value never comes back after a restart that follows a
 *   checkpoint. Until then a crash leaves the disk as the last checkpoint
 *   left it. The mask is lifted once the tombstone or the newer value is on
 *   disk. A delete masks the copy and writes its own tombstone;
 * - after a failed write the tier refuses demotions until a write succeeds;
 * - a value is written with the key's current tags (`ColdTags.of`), and
 *   when the store opens, the tags of the keys it holds are restored to the
 *   tag index, except for keys written or deleted meanwhile.
 *
 * Reads wait for the store to open (`ready` resolves once the tags are
 * restored too); everything else in the cache does not.
 */
export class ColdTier {
  readonly name = 'cold'
  readonly ready: Promise<ColdStore>
  hits = 0
  #store: ColdStore | undefined
  readonly #staged = new Map<string, ColdEntry>()
  #stagedBytes = 0
  /** Which disk copies are not their key's value any more, and the tombstones owed for them. */
  readonly #superseded = new Supersessions()
  /** Clears begun, and clears under way: the disk reads as empty while one runs. */
  #clears = 0
  #clearing = 0
  #refusing = false
  /** Set by a clear() before the store has opened: the disk's tags are about to go. */
  #dropRecoveredTags = false
  /** Keys whose disk record left the store, judged at the end of the current run. */
  #leaving: Map<string, Leave> | undefined
  readonly #options: ColdTierOptions

  constructor(options: ColdTierOptions) {
    this.#options = options
    const tags = options.tags
    const left = options.left
    const opening = ColdStore.open(
      left === undefined ? options : { ...options, onLeave: (key, reason, tagged) => this.#leave(key, reason, tagged, left) },
    )
    this.ready = opening.then(async (store) => {
      if (tags !== undefined) await this.#restoreTags(store, tags)
      return (this.#store = store)
    })
    this.ready.catch(() => undefined) // the cache reports it; an unwatched `ready` must not crash the process
  }

  get dir(): string {
    return this.#options.dir
  }

  /** Whether the store has opened (and its tags are restored). */
  get isOpen(): boolean {
    return this.#store !== undefined
  }

  /** Whether the key's value is staged or on disk, without I/O; false until the store is open. */
  holds(key: string, now: number): boolean {
    const staged = this.#staged.get(key)
    if (staged !== undefined) return staged.expiresAt === 0 || staged.expiresAt > now
    return !this.#superseded.hides(key) && this.#clearing === 0 && this.#store?.has(key) === true
  }

  /** Whether the open store itself holds the key's current value: written, not just staged. */
  onDisk(key: string): boolean {
    return !this.#staged.has(key) && !this.#superseded.hides(key) && this.#clearing === 0 && this.#store?.has(key) === true
  }

  /**
   * What a checkpoint must write before the memory entries: the tombstones
   * owed for keys whose newer value is neither staged nor in memory (a
   * newer value pays its own), then the entries staged and not yet written.
   */
  unwritten(inMemory: (key: string) => boolean): ColdEntry[] {
    const batch: ColdEntry[] = []
    for (const owed of this.#superseded.owed()) if (!this.#staged.has(owed.key) && !inMemory(owed.key)) batch.push(owed)
    for (const entry of this.#staged.values()) batch.push(entry)
    return batch
  }

  /**
   * The last resort of a close whose checkpoint failed (a full disk, most
   * likely): frees the store's reserve and writes every tombstone still owed,
   * for keys in memory too, whose newer values are about to be lost. Rejects
   * when even that cannot be written.
   */
  async writeOwedOnReserve(): Promise<void> {
    const store = this.#store
    if (store === undefined || this.#superseded.owedCount === 0) return
    await store.releaseReserve()
    const outcome = await this.write([...this.#superseded.owed()])
    if (outcome.error !== undefined) throw outcome.error
    await store.sync()
  }

  /** The tombstone owed for the key, if any: its newer value left memory without reaching the disk. */
  owedFor(key: string): OwedTombstone | undefined {
    return this.#superseded.owedFor(key)
  }

  /** The key's bytes, from the staging area or the disk; waits for the store to open. */
  async read(key: string, now: () => number): Promise<ColdEntry | undefined> {
    const staged = this.#staged.get(key)
    if (staged !== undefined) return this.#hit(staged, now())
    const clears = this.#clears
    const store = this.#store ?? (await this.ready)
    if (this.#superseded.hides(key) || this.#clearing > 0 || clears !== this.#clears || !store.has(key)) return undefined
    // The cache's tag index already has the key's tags: the record's need no decoding here.
    const hit = await store.get(key, NO_TAGS)
    if (hit === undefined || this.#superseded.hides(key) || clears !== this.#clears) return undefined
    return this.#hit({ key, stored: hit.value, expiresAt: hit.expiresAt }, now())
  }

  /** Waits for the store, then whether it holds the key. */
  async has(key: string, now: number): Promise<boolean> {
    if (this.#staged.has(key)) return this.holds(key, now)
    await this.ready
    return this.holds(key, now)
  }

  /**
   * Takes an entry evicted from above into the staging area, where reads find
   * it until `write` puts it on disk. False when the tier cannot take it (a
   * failed disk, or too much already staged): then it leaves the cache.
   */
  stage(entry: ColdEntry): boolean {
    if (this.#refusing || this.#stagedBytes + entry.stored.byteLength > this.#options.maxStagedBytes) return false
    this.#unstage(entry.key)
    this.#staged.set(entry.key, entry)
    this.#stagedBytes += entry.stored.byteLength
    return true
  }

  /** Drops a staged entry that expired before its batch left; false when a newer write had replaced it already. */
  unstage(entry: ColdEntry): boolean {
    if (this.#staged.get(entry.key) !== entry) return false
    this.#unstage(entry.key)
    return true
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
   * drops its values from staging (they are in `dropped`; the tier then
   * refuses demotions until a write succeeds) and keeps its tombstones owed.
   */
  async write(batch: readonly ColdEntry[]): Promise<WriteOutcome> {
    const store = this.#store ?? (await this.ready)
    const live: ColdEntry[] = []
    const puts: ColdPut[] = []
    let tooLarge = NO_ENTRIES
    for (const entry of batch) {
      if (isOwedTombstone(entry)) {
        if (!this.#superseded.isOwed(entry)) continue
        if (!store.has(entry.key) && !store.writing(entry.key)) {
          this.#superseded.settle(entry)
          continue
        }
        live.push(entry)
        puts.push({ key: entry.key, value: EMPTY, expiresAt: 0, tombstone: true })
        continue
      }
      if (this.#staged.get(entry.key) !== entry) continue
      const tags = this.#options.tags?.of(entry.key)
      if (tags !== undefined && !this.#fitsWith(entry.key, entry.stored.byteLength, tags)) {
        this.#unstage(entry.key)
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
      this.#refusing = false
    } catch (error) {
      this.#refusing = true
      const dropped: ColdEntry[] = []
      for (const entry of live) {
        if (isOwedTombstone(entry) || this.#staged.get(entry.key) !== entry) continue
        this.#unstage(entry.key)
        dropped.push(entry)
      }
      return { tooLarge, dropped, error: this.#ioError(error, 'write demoted entries to') }
    }
    for (const entry of live) {
      if (isOwedTombstone(entry)) {
        if (this.#superseded.isOwed(entry)) this.#superseded.settle(entry)
        continue
      }
      if (this.#staged.get(entry.key) !== entry) continue
      this.#unstage(entry.key)
      this.#superseded.paid(entry.key)
    }
    return { tooLarge, dropped: NO_ENTRIES }
  }

  /** Stages an entry for a checkpoint, which writes its batches at once: no bound applies. */
  stageForCheckpoint(entry: ColdEntry): void {
    this.#unstage(entry.key)
    this.#staged.set(entry.key, entry)
    this.#stagedBytes += entry.stored.byteLength
  }

  /**
   * The key has a new value above: its disk copy (and any staged older
   * value) must not be read again, and the disk owes a tombstone for it
   * until the new value reaches the disk (see `owedFor`, `unwritten`).
   */
  mask(key: string): void {
    if (!this.mayHold(key)) return
    this.#unstage(key)
    this.#superseded.written(key)
  }

  /**
   * The key was deleted: masks its disk copy now and writes a tombstone behind
   * any write of the key already in flight. Resolves when the tombstone is
   * written; true when the disk or staging held the key's current value (a
   * disk copy that a newer write had already masked is not the current value).
   */
  async invalidate(key: string): Promise<boolean> {
    const staged = this.#staged.get(key)
    // A staged value that expired on its way down is no longer the key's value.
    const wasStaged = staged !== undefined && (staged.expiresAt === 0 || staged.expiresAt > this.#options.now())
    this.#unstage(key)
    const wasCurrent = !this.#superseded.hides(key)
    const masking = this.#superseded.deleting(key)
    try {
      const store = this.#store ?? (await this.ready)
      const deleted = await store.delete(key)
      // The tombstone is the key's current state, unless the key was written again meanwhile.
      this.#superseded.deleted(key, masking)
      // A staged value (perhaps being written) is the disk's copy: its own liveness decides.
      return staged !== undefined ? wasStaged : wasCurrent && deleted
    } catch (error) {
      // Left masked, and the tombstone still owed: the older value may still be on disk.
      this.#superseded.deleteFailed(key, masking)
      throw this.#ioError(error, 'delete from')
    }
  }

  /** Whether an encoded value of this size, under this key, fits one segment (tags aside). */
  fits(key: string, encodedBytes: number): boolean {
    return recordLength(Buffer.byteLength(key), encodedBytes) <= this.#options.segmentBytes
  }

  /** Whether an encoded value of this size fits one segment together with the key's current tags. */
  fitsWithTags(key: string, encodedBytes: number): boolean {
    const tags = this.#options.tags?.of(key)
    return tags === undefined ? this.fits(key, encodedBytes) : this.#fitsWith(key, encodedBytes, tags)
  }

  /** Whether a write or delete of the key must reach the disk copy: false only when the open store is known not to hold it. */
  mayHold(key: string): boolean {
    const store = this.#store
    return store === undefined || this.#staged.has(key) || store.has(key) || store.writing(key)
  }

  /**
   * Empties the disk. While the clear runs, the disk reads as empty; masks
   * and owed tombstones stay, so that if it fails (a full disk) the older
   * copies they hide stay hidden. Once it succeeds they hide nothing, and
   * drain away as their tombstones are found unneeded.
   */
  async clear(): Promise<void> {
    this.#staged.clear()
    this.#stagedBytes = 0
    this.#clears++
    this.#clearing++
    if (this.#store === undefined) this.#dropRecoveredTags = true
    try {
      const store = this.#store ?? (await this.ready)
      await store.clear()
      this.#superseded.cleared()
    } catch (error) {
      // Memory was cleared, tags too: what the disk still holds was cleared as far as this process can tell.
      if (this.#store !== undefined) this.#superseded.blind(this.#store.keys())
      throw error
    } finally {
      this.#clearing--
    }
  }

  async sync(): Promise<void> {
    const store = this.#store ?? (await this.ready)
    await store.sync()
  }

  /**
   * One slice of compaction and size enforcement; true while more is due.
   * Each run also lets demotions try the disk again after a failed write:
   * the next batch is the probe.
   */
  async maintain(budget?: number): Promise<boolean> {
    this.#refusing = false
    if (this.#store === undefined) return false
    return this.#store.maintain(budget)
  }

  stats(): ColdTierStats {
    const store = this.#store?.stats()
    return {
      entries: (store?.entries ?? 0) + this.#staged.size,
      bytes: (store?.bytes ?? 0) + this.#stagedBytes,
      diskBytes: store?.diskBytes ?? 0,
      hits: this.hits,
    }
  }

  /** Tells `left` now of every value the disk's size bound dropped, instead of whenever a read would find out. */
  async settleDropped(): Promise<void> {
    await this.#store?.settleDropped()
    await yieldToLoop() // the leaves are judged in a microtask
  }

  /** Closes the store once it is open (or has failed to open). */
  async close(): Promise<void> {
    const store = await this.ready.catch(() => undefined)
    await store?.close()
  }

  #fitsWith(key: string, encodedBytes: number, tags: readonly string[]): boolean {
    const tagBytes = tags.length === 0 ? 0 : TAGS_LENGTH_BYTES + encodedTagsLength(tags)
    return recordLength(Buffer.byteLength(key), encodedBytes + tagBytes) <= this.#options.segmentBytes
  }

  /**
   * Hands the tags the store found to the tag index, in slices, before the
   * store is announced open. A key masked or staged meanwhile has a newer
   * value (or a delete) above the disk's, whose tags are the ones that count;
   * after a clear() nothing the disk held counts.
   */
  async #restoreTags(store: ColdStore, tags: ColdTags): Promise<void> {
    let n = 0
    for (const [key, list] of store.takeRecoveredTags()) {
      if (this.#dropRecoveredTags) return
      if (!this.#superseded.isMasked(key) && !this.#staged.has(key) && store.has(key)) tags.restore(key, list)
      if (++n % RESTORE_SLICE === 0) await yieldToLoop()
    }
  }

  /**
   * The store let a value go. Judged once the current run is over: a store
   * call can notice it in the middle of a move (a demotion asks the store
   * whether it holds the key before staging it), and by then the key is
   * staged, masked, on disk anew, or really gone. An untagged value that
   * expired or was found corrupt concerns no one: dropped at once.
   */
  #leave(key: string, reason: ColdLeaveReason, tagged: boolean, left: ColdLeft): void {
    if (!tagged && reason !== 'evicted') return
    if (this.#leaving === undefined) {
      this.#leaving = new Map()
      queueMicrotask(() => {
        const leaving = this.#leaving as Map<string, Leave>
        this.#leaving = undefined
        for (const [k, leave] of leaving) {
          if (this.#staged.has(k) || this.#superseded.isMasked(k) || this.#store?.has(k) === true) continue
          left(k, leave.reason, leave.tagged)
        }
      })
    }
    this.#leaving.set(key, { reason, tagged })
  }

  #hit(entry: ColdEntry, now: number): ColdEntry | undefined {
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) return undefined
    this.hits++
    return entry
  }

  #unstage(key: string): boolean {
    const staged = this.#staged.get(key)
    if (staged === undefined) return false
    this.#staged.delete(key)
    this.#stagedBytes -= staged.stored.byteLength
    return true
  }

  #ioError(error: unknown, what: string): CacheError {
    return isCacheError(error) ? error : new CacheError('E_IO', `cannot ${what} ${this.dir}`, { cause: error })
  }
}
