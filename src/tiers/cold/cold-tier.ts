import { type SchedulerLike, Subject, type Subscription } from 'rxjs'
import { ask, type Inbox, inbox } from '../../../streams/inbox.js'
import type { SharedRecords } from '../../codec/shared-records.js'
import { asCacheError, type CacheError } from '../../errors.js'
import type { ColdTierStats } from '../../observe/stats.js'
import type { LowerEntry, LowerTier, LowerTierExits, MemoryImage, Refusal } from '../lower-tier.js'
import { writeBatch } from './batch-write.js'
import { type CheckpointHost, reportLeftAtClose, writeMemoryDown } from './checkpoint.js'
import { coldFlows } from './cold-flows.js'
import type { ColdStore } from './cold-store.js'
import { DiskDebts } from './disk-debts.js'
import { probeDisk } from './disk-probe.js'
import { DiskRead, DiskReads, MISS, type SettleRead, type SettleReads } from './disk-read.js'
import { closeOnLastResort, type LastResortHost } from './last-resort.js'
import { Leaves } from './leaves.js'
import type { ColdTierOptions } from './options.js'
import { RecordFit } from './record-fit.js'
import { Staging } from './staging.js'
import { Supersessions } from './supersessions.js'
import type { ColdTags } from './tier-contract.js'
import { TierOpening } from './tier-open.js'
import type { ColdHit } from './types.js'
import { yieldToLoop } from './yield.js'

const MAX_STAGED_BYTES = 64 << 20
// Requests handed to the store at once. Its own pool bounds the I/O (32 positioned reads); this bounds what
// waits in its queue, and takes a whole slice of a bulk call (4,096 keys), so that the slice's reads start in its turn.
const CONCURRENCY = 4096

/**
 * The disk tier: one actor around the `ColdStore`, fed through a bounded
 * inbox, that keeps the one invariant the stack relies on, **a key's disk
 * copy is read only while it is the key's current value**:
 *
 * - demotion: an evicted entry is staged at once (readable, holding a unit
 *   of the inbox), then written in a batch every 10 ms; a full inbox, a
 *   failed disk or 64 MiB already staged refuse it (the stack checks first
 *   whether the disk already holds it);
 * - a write of a key above masks its disk copy and owes the disk a
 *   tombstone for it. The newer value pays the debt when it reaches the
 *   disk; if it leaves memory without doing so (`released`), the tombstone
 *   goes down with the next batch, and every checkpoint writes those still
 *   owed. A delete masks the copy and writes its own tombstone;
 * - a failed write, read or open is told to `LowerTierExits.failed`: the
 *   stack stops using the tier and calls `probe` with backoff, which opens
 *   it if it never opened, then writes the clear and the tombstones owed
 *   meanwhile and checks that the directory takes writes (masks kept in
 *   memory meanwhile hide every older copy, on disk or not yet opened);
 * - a value is written with the key's current tags (`ColdTags.of`), and
 *   when the store opens, the tags of the keys it holds are restored to the
 *   tag index, except for keys written or deleted meanwhile;
 * - what leaves the disk (evicted for room, expired, corrupt, dropped by a
 *   failed write) is reported upward through `LowerTierExits.left`, judged
 *   at the end of the run that noticed it; whether memory holds a copy is
 *   the stack's to judge.
 *
 * Reads wait for the store to open (`ready` resolves once the tags are
 * restored too); everything else in the cache does not.
 */
export class ColdTier implements LowerTier {
  readonly name = 'cold'
  readonly takesEvictions = true
  readonly ready: Promise<void>
  hits = 0
  #store: ColdStore | undefined
  /** The last open, the first or one `probe` made after it failed. */
  #opened: Promise<ColdStore>
  readonly #options: ColdTierOptions
  readonly #scheduler: SchedulerLike
  readonly #exits: LowerTierExits
  readonly #inbox: Inbox
  readonly #staging: Staging
  /** Which disk copies are not their key's value any more, and the tombstones owed for them. */
  readonly #superseded = new Supersessions()
  /** The clear and the tombstones the disk owes for what happened above it while it failed. */
  readonly #debts = new DiskDebts(this.#superseded, (batch) => this.#write(batch))
  readonly #fit: RecordFit
  /** What a batch write, a checkpoint and the last resort of a close read and change of the tier. */
  readonly #parts: CheckpointHost & LastResortHost
  readonly #opening: TierOpening
  /** Staged entries, and owed tombstones, on their way to the demotion flow. */
  readonly #evictions = new Subject<LowerEntry>()
  /** Batch writes not yet done, queued ones too: a checkpoint waits for them. */
  readonly #writes = new Set<Promise<void>>()
  readonly #flows: Subscription[] = []
  /** Clears begun, and clears under way: the disk reads as empty while one runs. */
  #clears = 0
  #clearing = 0
  #closed = false
  /** Set by a clear() before the store has opened: the disk's tags are about to go. */
  #dropRecoveredTags = false
  readonly #settleRead: SettleRead = (read, error, hit) => {
    if (error !== undefined) return this.#readFailed(read, error)
    if (hit === undefined || this.#superseded.hides(read.key) || read.clears !== this.#clears) return read.resolve(undefined)
    read.resolve(this.#hit({ key: read.key, stored: hit.value, expiresAt: hit.expiresAt }, this.#scheduler.now()))
  }

  readonly #settleReads: SettleReads = (reads, error, hits) => {
    if (error !== undefined) {
      // As a single read's failure: a miss for the keys the disk was asked for, and a failed tier.
      const failure = this.#ioError(error, 'read from')
      if (failure.code === 'E_CLOSED' || failure.code === 'E_BACKPRESSURE') return reads.reject(failure)
      this.#exits.failed(failure)
      return reads.resolve(reads.results)
    }
    const { keys, at, results } = reads
    const cleared = reads.clears !== this.#clears
    const now = this.#scheduler.now()
    for (let i = 0; i < keys.length; i++) {
      const hit = (hits as (ColdHit | undefined)[])[i]
      if (hit === undefined || cleared || this.#superseded.hides(keys[i])) continue
      results[at[i]] = this.#hit({ key: keys[i], stored: hit.value, expiresAt: hit.expiresAt }, now)
    }
    reads.resolve(results)
  }

  /** `records`: the record shapes the local codec shares, saved beside the segments (read back at open). */
  constructor(options: ColdTierOptions, scheduler: SchedulerLike, exits: LowerTierExits, tags?: ColdTags, records?: SharedRecords) {
    this.#options = options
    this.#scheduler = scheduler
    this.#exits = exits
    this.#inbox = inbox({ ...options.inbox, concurrency: CONCURRENCY, name: 'cold' })
    this.#staging = new Staging(MAX_STAGED_BYTES, this.#inbox)
    const fit = (this.#fit = new RecordFit(options.segmentBytes, tags))
    this.#parts = {
      staging: this.#staging,
      superseded: this.#superseded,
      tags,
      fitsWith: (key, bytes, list) => fit.fitsWith(key, bytes, list),
      fitsWithTags: (key, bytes) => fit.fitsWithTags(key, bytes),
      ioError: (error, what) => this.#ioError(error, what),
      onDisk: (key) => this.#onDisk(key),
      write: (batch) => this.#write(batch),
      admit: () => ask(this.#inbox, () => Promise.resolve()),
      debts: this.#debts,
      lost: (key) => exits.left(key, 'io'),
      reportError: (error) => this.#reportError(error),
    }
    const leaves = new Leaves(
      (key) => this.#staging.has(key) || this.#superseded.isMasked(key) || this.#store?.has(key) === true,
      (key, reason) => exits.left(key, reason),
    )
    this.#opening = new TierOpening({
      options,
      scheduler,
      exits,
      leaves,
      tags,
      records,
      newer: (key) => this.#superseded.isMasked(key) || this.#staging.has(key),
      dropRecoveredTags: () => this.#dropRecoveredTags,
      opened: (store) => {
        // Cleared while it could not open: what it holds is from before, and reads as absent until the clear is down.
        if (this.#debts.clearOwed) this.#superseded.blind(store.keys())
        this.#store = store
        // Reopened after a failed open: its flows were stopped. The close closes it, and wants none.
        if (this.#flows.length === 0 && !this.#closed) this.#startFlows()
      },
    })
    this.#opened = this.#opening.open()
    this.#opened.catch(() => this.#openFailed())
    this.ready = this.#opened.then(() => undefined)
    this.ready.catch(() => undefined) // the cache reports it; an unwatched `ready` must not crash the process
    this.#startFlows()
  }

  get isOpen(): boolean {
    return this.#store !== undefined
  }

  /** Units of the inbox held now: staged entries, and requests queued or under way. */
  get held(): number {
    return this.#inbox.held
  }

  holds(key: string, now: number): boolean {
    const staged = this.#staging.get(key)
    if (staged !== undefined) return staged.expiresAt === 0 || staged.expiresAt > now
    return !this.#superseded.hides(key) && this.#clearing === 0 && this.#store?.has(key) === true
  }

  fits(key: string, encodedBytes: number): boolean {
    return this.#fit.fits(key, encodedBytes)
  }

  read(key: string): Promise<LowerEntry | undefined> {
    const staged = this.#staging.get(key)
    if (staged !== undefined) return Promise.resolve(this.#hit(staged, this.#scheduler.now()))
    const clears = this.#clears
    const store = this.#store
    if (store === undefined) return this.#opened.then(() => (clears === this.#clears ? this.read(key) : undefined), noAnswer)
    if (this.#superseded.hides(key) || this.#clearing > 0 || !store.has(key)) return MISS
    return new Promise((resolve, reject) => this.#inbox.ask(new DiskRead(key, clears, store, this.#settleRead, resolve, reject)))
  }

  readMany(keys: readonly string[]): Promise<(LowerEntry | undefined)[]> {
    const store = this.#store
    if (store === undefined) return Promise.all(keys.map((key) => this.read(key)))
    const results = new Array<LowerEntry | undefined>(keys.length)
    let reads: DiskReads | undefined
    const now = this.#scheduler.now()
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      results[i] = undefined
      const staged = this.#staging.get(key)
      if (staged !== undefined) results[i] = this.#hit(staged, now)
      else if (!this.#superseded.hides(key) && this.#clearing === 0 && store.has(key)) {
        reads ??= new DiskReads(results, this.#clears, store, this.#settleReads)
        reads.keys.push(key)
        reads.at.push(i)
      }
    }
    if (reads === undefined) return Promise.resolve(results)
    const letter = reads
    return new Promise((resolve, reject) => {
      letter.resolve = resolve
      letter.reject = reject
      this.#inbox.ask(letter)
    })
  }

  has(key: string): boolean | Promise<boolean> {
    const now = this.#scheduler.now()
    if (this.#staging.has(key) || this.#store !== undefined) return this.holds(key, now)
    return this.#opened.then(
      () => this.holds(key, now),
      () => false,
    )
  }

  demote(entry: LowerEntry): Refusal | undefined {
    if (!this.fits(entry.key, entry.stored.byteLength)) return 'too-large'
    if (!this.#staging.take(entry)) return 'io'
    this.#evictions.next(entry)
    return undefined
  }

  put(entry: LowerEntry): Refusal | undefined | Promise<void> {
    if (!this.fits(entry.key, entry.stored.byteLength)) return 'too-large'
    if (this.#inbox.hasRoom || this.#options.inbox.whenFull === 'reject') return this.demote(entry)
    // A full inbox that waits: the value is taken (it is the key's value now), and its writer waits for room.
    if (this.#staging.bytes + entry.stored.byteLength > MAX_STAGED_BYTES) return 'io'
    this.#staging.force(entry)
    this.#evictions.next(entry)
    return ask(this.#inbox, () => Promise.resolve()).then(noop, noop) // closed meanwhile: the close wrote it, or said why not
  }

  checkRoom(): void {
    if (this.#options.inbox.whenFull === 'reject' && !this.#inbox.hasRoom) throw this.#inbox.full()
  }

  mask(key: string): void {
    if (!this.#mayHold(key)) return
    this.#staging.remove(key)
    this.#superseded.written(key)
  }

  released(key: string): void {
    const owed = this.#superseded.owedFor(key)
    if (owed !== undefined) this.#evictions.next(owed)
  }

  invalidate(key: string): Promise<boolean> | undefined {
    if (!this.#mayHold(key)) return undefined
    return this.#delete(key).catch((error: unknown) => {
      this.#exits.error(tierError(error, this.#options.dir), key)
      throw error
    })
  }

  /**
   * Empties the disk. While the clear runs, the disk reads as empty; masks
   * and owed tombstones stay, so that if it fails (a full disk) the older
   * copies they hide stay hidden. Once it succeeds they hide nothing, and
   * drain away as their tombstones are found unneeded.
   */
  async clear(): Promise<void> {
    this.#staging.clear()
    this.#clears++
    this.#clearing++
    if (this.#store === undefined) this.#dropRecoveredTags = true
    try {
      const store = await this.#opened
      await store.clear()
      this.#superseded.cleared()
    } catch (error) {
      // Memory was cleared, tags too: what the disk still holds was cleared as far as this process can tell,
      // and is cleared on disk too once it works again.
      this.#debts.clearFailed(this.#store?.keys())
      throw error
    } finally {
      this.#clearing--
    }
  }

  /**
   * Writes every entry the disk does not hold yet (staged demotions, then
   * memory's, staged on the way so that a write of the key meanwhile wins),
   * then the tombstones still owed, then fsyncs data and directory. Each
   * batch of memory's entries waits for room in the inbox (or is refused
   * with E_BACKPRESSURE) before it is staged.
   */
  checkpoint(memory: MemoryImage): Promise<void> {
    return this.#checkpoint(memory, true)
  }

  /** Ends the flows (the last demotion batch is written), checkpoints, reports what did not stay, and closes the store. */
  async close(memory: MemoryImage): Promise<void> {
    this.#closed = true
    this.#evictions.complete()
    this.#stopFlows()
    let failure: unknown
    const opened = await this.#opened.then(
      () => true,
      () => false, // reported when it happened; there is nothing to checkpoint into
    )
    if (opened) {
      try {
        await this.#checkpoint(memory, false)
        // What the disk's size bound dropped meanwhile is told now, instead of whenever a read would find out.
        await this.#store?.settleDropped()
        await yieldToLoop() // the leaves are judged in a microtask
        await reportLeftAtClose(this.#parts, memory, (key) => this.#exits.left(key, 'closing'))
      } catch (error) {
        failure = error
        await closeOnLastResort(this.#store, this.#parts).catch((last: unknown) => this.#reportError(last))
      }
    }
    this.#inbox.close()
    const store = await this.#opened.catch(() => undefined)
    await this.#opening.settled()
    await store?.close()
    if (failure !== undefined) throw tierError(failure, this.#options.dir)
  }

  /**
   * Tries the disk again after a failure: opens the store if it never
   * opened, writes the clear and the tombstones owed, then writes, syncs and
   * removes a probe file. Resolves once all of that worked.
   */
  async probe(): Promise<void> {
    if (this.#store === undefined) {
      this.#opened = this.#opening.open()
      this.#opened.catch(noop) // this call reports it
    }
    const store = await this.#opened
    await this.#debts.pay(store)
    await probeDisk(this.#options.dir)
  }

  stats(): ColdTierStats {
    const store = this.#store?.stats()
    return {
      entries: (store?.entries ?? 0) + this.#staging.size,
      bytes: (store?.bytes ?? 0) + this.#staging.bytes,
      diskBytes: store?.diskBytes ?? 0,
      hits: this.hits,
      state: store === undefined ? 'opening' : 'ok',
    }
  }

  /** The store could not open: no upkeep, nothing to write into; what was staged for it leaves (reason io) unless memory has it. */
  #openFailed(): void {
    if (this.#store !== undefined) return
    this.#stopFlows()
    for (const entry of [...this.#staging.values()]) {
      this.#staging.remove(entry.key)
      this.#exits.left(entry.key, 'io')
    }
  }

  /** A read the disk failed: a miss for its callers, and a failed tier. A full inbox, or a close, is the caller's. */
  #readFailed(read: DiskRead, error: unknown): void {
    const failure = this.#ioError(error, 'read from')
    if (failure.code === 'E_CLOSED' || failure.code === 'E_BACKPRESSURE') return read.reject(failure)
    this.#exits.failed(failure)
    read.resolve(undefined)
  }

  #stopFlows(): void {
    for (const flow of this.#flows.splice(0)) flow.unsubscribe()
  }

  #startFlows(): void {
    const flows = coldFlows(
      {
        evictions: this.#evictions,
        expired: (entry) => {
          // An entry a newer write replaced meanwhile is not the key's value: its expiry is no one's.
          if (this.#staging.get(entry.key) !== entry) return
          this.#staging.remove(entry.key)
          this.released(entry.key)
          this.#exits.left(entry.key, 'expired-in-transit')
        },
        writeDown: (batch) => this.#writeDown(batch),
        maintain: async () => (this.#store === undefined ? false : this.#store.maintain()),
        sync: async () => this.#store?.sync(),
        reportError: (error) => this.#reportError(error),
      },
      this.#options.fsync,
      this.#options.fsyncInterval,
      this.#scheduler,
    )
    this.#flows.push(...flows)
  }

  /** A demotion batch, in line behind the requests before it: its entries hold their units already. */
  #writeDown(batch: readonly LowerEntry[]): void {
    let settle = (): void => undefined
    const written = new Promise<void>((resolve) => (settle = resolve))
    this.#writes.add(written)
    this.#inbox.carry({
      units: 0,
      work: () => this.#write(batch),
      done: (error) => {
        if (error !== undefined) this.#reportError(error)
        this.#writes.delete(written)
        settle()
      },
    })
  }

  async #checkpoint(memory: MemoryImage, admit: boolean): Promise<void> {
    const store = await this.#opened
    await Promise.all(this.#writes)
    if (this.#debts.clearOwed) await this.#debts.pay(store)
    await writeMemoryDown(this.#parts, memory, admit)
    await store.sync()
  }

  /**
   * Writes a batch and tells what left the tier: a value that fits a segment
   * but not together with its tags leaves the cache, as a value too large
   * for every tier does; one that a failed write dropped is judged above.
   */
  async #write(batch: readonly LowerEntry[]): Promise<void> {
    let store: ColdStore
    try {
      store = await this.#opened
    } catch (error) {
      // It never opened: the batch's values leave as a failed write's do (its tombstones stay owed).
      for (const entry of batch) if (this.#staging.get(entry.key) === entry && this.#staging.remove(entry.key)) this.#exits.left(entry.key, 'io')
      throw error
    }
    const outcome = await writeBatch(store, this.#parts, batch)
    for (const entry of outcome.tooLarge) this.#exits.left(entry.key, 'too-large')
    for (const entry of outcome.dropped) this.#exits.left(entry.key, 'io')
    if (outcome.error !== undefined) {
      this.#exits.failed(outcome.error)
      throw outcome.error
    }
  }

  /**
   * The key was deleted: masks its disk copy now and writes a tombstone behind
   * any write of the key already in flight. Resolves when the tombstone is
   * written; true when the disk or staging held the key's current value (a
   * disk copy that a newer write had already masked is not the current value).
   */
  async #delete(key: string): Promise<boolean> {
    const staged = this.#staging.get(key)
    // A staged value that expired on its way down is no longer the key's value.
    const wasStaged = staged !== undefined && (staged.expiresAt === 0 || staged.expiresAt > this.#scheduler.now())
    this.#staging.remove(key)
    const wasCurrent = !this.#superseded.hides(key)
    const masking = this.#superseded.deleting(key)
    try {
      const store = await this.#opened
      const deleted = await ask(this.#inbox, () => store.delete(key))
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

  /** Whether the open store itself holds the key's current value: written, not just staged. */
  #onDisk(key: string): boolean {
    return !this.#staging.has(key) && !this.#superseded.hides(key) && this.#clearing === 0 && this.#store?.has(key) === true
  }

  /** Whether a write or delete of the key must reach the disk copy: false only when the open store is known not to hold it. */
  #mayHold(key: string): boolean {
    const store = this.#store
    return store === undefined || this.#staging.has(key) || store.has(key) || store.writing(key)
  }

  #reportError(error: unknown): void {
    this.#exits.error(tierError(error, this.#options.dir))
  }

  #hit(entry: LowerEntry, now: number): LowerEntry | undefined {
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) return undefined
    this.hits++
    return entry
  }

  #ioError(error: unknown, what: string): CacheError {
    return asCacheError(error, 'E_IO', `cannot ${what} ${this.#options.dir}`)
  }
}

/** A fault of this tier as the cache reports it: a CacheError as it is, anything else as E_IO naming the directory. */
const tierError = (error: unknown, dir: string): CacheError => asCacheError(error, 'E_IO', `cold tier in ${dir}: ${String(error)}`)

const noop = (): void => undefined
const noAnswer = (): undefined => undefined
