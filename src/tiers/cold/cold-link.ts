import { Subject, type SchedulerLike, type Subscription } from 'rxjs'
import { demote } from '../../../streams/demote.js'
import { maintain } from '../../../streams/maintain.js'
import type { Codec } from '../../codec/codec.js'
import { CacheError, isCacheError } from '../../errors.js'
import type { TierName } from '../../observe/events.js'
import type { Notifier } from '../../observe/notifier.js'
import type { ResolvedColdOptions } from '../../options/options.js'
import { SingleFlight } from '../../read-through/single-flight.js'
import { estimateSize } from '../memory/estimate-size.js'
import type { ColdEntry } from './cold-tier.js'
import { ColdTier } from './cold-tier.js'
import { yieldToLoop } from './yield.js'

/** What the link needs of the stack it hangs under. */
export interface ColdHost<V> {
  /** A value read from disk, for the promotion flow. */
  promote(key: string, value: V, bytes: Uint8Array, expiresAt: number): void
  /** Every entry in memory, encoded, for a checkpoint; hot values are encoded as they are reached. */
  memoryEntries(): Iterable<ColdEntry>
  /** Whether hot or warm holds a live entry for the key. */
  inMemory(key: string): boolean
  /** The keys of every live entry in memory. */
  memoryKeys(): Iterable<string>
}

/** A read from disk: the value and what promotion needs to move it up. */
interface DiskRead<V> {
  value: V
  bytes: Uint8Array
  expiresAt: number
}

// Demotions gather for this long before one group-committed write.
const BATCH_WINDOW_MS = 10
const MAX_BATCH = 512
const MAX_STAGED_BYTES = 64 << 20
const MAINTENANCE_PERIOD_MS = 1000
const CHECKPOINT_BATCH = 256
const CLOSE_REPORT_SLICE = 4096

/**
 * Hangs the cold tier under the in-memory tiers: the flows that carry
 * evictions down to disk in batches, reads that wait for the disk and promote
 * what they find, invalidation on write, checkpoints, and the maintenance and
 * fsync timers. Every step is on the cache's scheduler.
 *
 * - demotion: an evicted entry is staged at once (readable), then written in
 *   a batch every 10 ms; an entry the disk already holds is not written again.
 * - read: one disk read per key at a time; a write of the key during the read
 *   wins, and the value read is then not promoted.
 * - write and delete: the disk copy is masked at once and a tombstone written.
 * - tags: a value goes to disk with the key's tags from the notifier's tag
 *   index, and comes back into that index when the store opens, so that
 *   `deleteByTag` finds keys only the disk holds. A tagged disk entry that
 *   leaves the disk (evicted, expired, corrupt) and is not in memory leaves
 *   the tag index.
 * - evictions: a disk entry evicted for room (not reinserted) that is not in
 *   memory, staged or masked left the cache: an `evict` event (tier 'cold',
 *   reason 'capacity') and a count in `stats().evictions`.
 */
export class ColdLink<V> {
  readonly tier: ColdTier
  readonly #host: ColdHost<V>
  readonly #notifier: Notifier<V>
  readonly #codec: Codec
  readonly #scheduler: SchedulerLike
  readonly #options: ResolvedColdOptions
  readonly #reads = new SingleFlight<DiskRead<V> | undefined>()
  readonly #evictions = new Subject<ColdEntry>()
  readonly #writes = new Set<Promise<void>>()
  readonly #flows: Subscription[] = []

  constructor(options: ResolvedColdOptions, codec: Codec, scheduler: SchedulerLike, notifier: Notifier<V>, host: ColdHost<V>) {
    this.#options = options
    this.#codec = codec
    this.#scheduler = scheduler
    this.#notifier = notifier
    this.#host = host
    const tags = notifier.tags
    this.tier = new ColdTier({
      ...options,
      now: () => scheduler.now(),
      onError: (error) => notifier.error(error),
      maxStagedBytes: MAX_STAGED_BYTES,
      tags: {
        of: (key) => tags.tagsOf(key),
        restore: (key, list) => tags.set(key, list),
      },
      // A value that left the disk and is not in memory left the cache: an
      // eviction for room is counted and told; one that expired or was found
      // corrupt (told only when tagged) takes its tags with it.
      left: (key, reason) => {
        if (host.inMemory(key)) return
        if (reason === 'evicted') notifier.evicted(key, 'cold', 'capacity')
        else tags.remove(key)
      },
    })
    const reportError = (error: unknown): void => notifier.error(asCacheError(error, options.dir))
    this.#flows.push(
      this.#evictions
        .pipe(
          demote(
            {
              batchWindow: BATCH_WINDOW_MS,
              maxBatch: MAX_BATCH,
              expired: (entry) => {
                // An entry a newer write replaced meanwhile is not the key's value: its expiry is no one's.
                if (!this.tier.unstage(entry)) return
                this.released(entry.key)
                notifier.expired(entry.key)
              },
            },
            scheduler,
          ),
        )
        .subscribe((batch) => this.#track(this.#write(batch).catch(reportError))),
      maintain({ period: MAINTENANCE_PERIOD_MS, slice: () => this.tier.maintain(), onError: reportError }, scheduler).subscribe(),
    )
    if (options.fsync === 'interval') {
      const sync = async (): Promise<boolean> => (await this.tier.sync(), false)
      this.#flows.push(maintain({ period: options.fsyncInterval, slice: sync, onError: reportError }, scheduler).subscribe())
    }
    // A tier refused its directory (E_LOCKED, E_IO) has nothing to flush or upkeep, and
    // its timers must not keep the process alive when the program never calls close().
    this.tier.ready.catch(() => {
      for (const flow of this.#flows) flow.unsubscribe()
    })
  }

  /** Takes an entry evicted from `from` (the last in-memory tier). */
  demote(key: string, bytes: Uint8Array, expiresAt: number, from: TierName): void {
    if (!this.tier.holds(key, this.#scheduler.now())) {
      const refused = this.place(key, bytes, expiresAt)
      if (refused !== undefined) {
        this.released(key)
        return this.#notifier.evicted(key, from, refused)
      }
    }
    this.#notifier.demoted(key, from, 'cold')
  }

  /**
   * Stages an entry for the disk: readable at once, written with the next
   * batch. Why the disk cannot take it, or undefined when it did.
   */
  place(key: string, bytes: Uint8Array, expiresAt: number): 'too-large' | 'io' | undefined {
    if (!this.tier.fits(key, bytes.byteLength)) return 'too-large'
    const entry: ColdEntry = { key, stored: bytes, expiresAt }
    if (!this.tier.stage(entry)) return 'io'
    this.#evictions.next(entry)
    return undefined
  }

  /** Throws `E_INVALID_VALUE` for a value whose record could never fit a segment. */
  checkFits(key: string, value: unknown): void {
    // The heap estimate is over twice what msgpack writes for any value; encode only near the limit.
    if (this.tier.fits(key, 2 * estimateSize(value))) return
    const bytes = this.#codec.encode(value)
    if (!this.tier.fits(key, bytes.byteLength)) {
      throw new CacheError(
        'E_INVALID_VALUE',
        `the value of '${key}' encodes to ${bytes.byteLength} bytes, more than one segment of the cold tier (${this.#options.segmentBytes})`,
      )
    }
  }

  /** The value from disk (or the staging area), promoted when nothing overtook the read; counts the hit or miss. */
  async read(key: string): Promise<V | undefined> {
    const found = await this.#reads.run(
      key,
      () => this.#fetch(key),
      (read) => {
        if (read !== undefined) this.#host.promote(key, read.value, read.bytes, read.expiresAt)
      },
    )
    if (found === undefined) {
      this.#notifier.miss(key)
      return undefined
    }
    this.#notifier.hit(key, 'cold')
    return found.value
  }

  /** The value from disk (or the staging area), as `peek` reads memory: neither promoted nor counted. */
  async peek(key: string): Promise<V | undefined> {
    return (await this.#fetch(key))?.value
  }

  has(key: string): Promise<boolean> {
    return this.tier.has(key, this.#scheduler.now())
  }

  /** The key was written above: its disk copy must not be read again (and is owed a tombstone). */
  mask(key: string): void {
    this.#reads.supersede(key)
    this.tier.mask(key)
  }

  /**
   * The key's value left memory without reaching the disk (it expired, or no
   * tier could take it): the tombstone its write owes goes down with the
   * next batch, so that the older disk copy is dead on disk too.
   */
  released(key: string): void {
    const owed = this.tier.owedFor(key)
    if (owed !== undefined) this.#evictions.next(owed)
  }

  /**
   * The key was deleted above: the disk copy must never be read again.
   * Returns the tombstone's write, or undefined when there was no copy.
   */
  invalidate(key: string): Promise<boolean> | undefined {
    this.#reads.supersede(key)
    if (!this.tier.mayHold(key)) return undefined
    return this.tier.invalidate(key).catch((error: unknown) => {
      this.#notifier.error(asCacheError(error, this.#options.dir), key)
      throw error
    })
  }

  async clear(): Promise<void> {
    this.#reads.supersedeAll()
    await this.tier.clear()
  }

  /**
   * Writes every tombstone owed and every entry the disk does not hold yet
   * (staged demotions, then memory, staged on the way so that a write of the
   * key meanwhile wins), then fsyncs data and directory.
   */
  async checkpoint(): Promise<void> {
    await this.tier.ready
    await Promise.all(this.#writes)
    let batch: ColdEntry[] = this.tier.unwritten((key) => this.#host.inMemory(key))
    for (const entry of this.#host.memoryEntries()) {
      if (this.tier.onDisk(entry.key)) continue
      if (!this.tier.fitsWithTags(entry.key, entry.stored.byteLength)) {
        // It stays in memory, but cannot pay for the older disk copy it masks.
        const owed = this.tier.owedFor(entry.key)
        if (owed !== undefined) batch.push(owed)
        continue
      }
      this.tier.stageForCheckpoint(entry)
      batch.push(entry)
      if (batch.length >= CHECKPOINT_BATCH) {
        await this.#write(batch)
        batch = []
      }
    }
    await this.#write(batch)
    await this.tier.sync()
  }

  /** Ends the flows (the last demotion batch is written), checkpoints, and closes the store. */
  async close(): Promise<void> {
    this.#evictions.complete()
    for (const flow of this.#flows) flow.unsubscribe()
    let failure: unknown
    const opened = await this.tier.ready.then(
      () => true,
      () => false, // reported when it happened; there is nothing to checkpoint into
    )
    if (opened) {
      try {
        await this.checkpoint()
        await this.#reportLeftAtClose()
      } catch (error) {
        failure = error
        // Memory's newer values are lost with the process: the older disk copies they hid must die with them.
        await this.tier.writeOwedOnReserve().catch((last: unknown) => this.#notifier.error(asCacheError(last, this.#options.dir)))
      }
    }
    await this.tier.close()
    if (failure !== undefined) throw asCacheError(failure, this.#options.dir)
  }

  async #fetch(key: string): Promise<DiskRead<V> | undefined> {
    const entry = await this.tier.read(key, () => this.#scheduler.now())
    if (entry === undefined) return undefined
    try {
      return { value: this.#codec.decode(entry.stored) as V, bytes: entry.stored, expiresAt: entry.expiresAt }
    } catch (error) {
      this.#notifier.lost(key, new CacheError('E_CODEC', `cannot decode the value of '${key}' read from disk`, { cause: error }))
      void this.tier.invalidate(key).catch(() => undefined)
      return undefined
    }
  }

  /**
   * Writes staged entries and owed tombstones. A value that fits a segment
   * but not together with its tags leaves the cache, as a value too large for
   * every tier does; one that a failed write dropped and that memory does not
   * hold leaves it too (reason 'io'). (Memory entries a checkpoint finds too
   * large are never staged: they stay in memory.)
   */
  async #write(batch: readonly ColdEntry[]): Promise<void> {
    const outcome = await this.tier.write(batch)
    for (const entry of outcome.tooLarge) this.#notifier.evicted(entry.key, 'cold', 'too-large')
    for (const entry of outcome.dropped) {
      if (this.#host.inMemory(entry.key)) continue
      this.released(entry.key)
      this.#notifier.evicted(entry.key, 'cold', 'io')
    }
    if (outcome.error !== undefined) throw outcome.error
  }

  /**
   * Memory is about to go: every entry it holds that the closing checkpoint
   * did not leave on disk (the disk's size bound pushed it out again, or it
   * does not fit a segment with its tags) leaves the cache now, and says so,
   * as does every disk-only value the bound dropped during the checkpoint.
   */
  async #reportLeftAtClose(): Promise<void> {
    await this.tier.settleDropped()
    let n = 0
    for (const key of this.#host.memoryKeys()) {
      if (!this.tier.onDisk(key)) this.#notifier.evicted(key, 'cold', 'capacity')
      if (++n % CLOSE_REPORT_SLICE === 0) await yieldToLoop()
    }
  }

  #track(write: Promise<void>): void {
    this.#writes.add(write)
    void write.finally(() => this.#writes.delete(write))
  }
}

const asCacheError = (error: unknown, dir: string): CacheError =>
  isCacheError(error) ? error : new CacheError('E_IO', `cold tier in ${dir}: ${String(error)}`, { cause: error })
