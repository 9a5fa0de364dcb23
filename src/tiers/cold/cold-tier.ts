import { CacheError, isCacheError } from '../../errors.js'
import { ColdStore } from './cold-store.js'
import type { ColdStoreOptions } from './options.js'
import { recordLength } from './record-format.js'
import type { ColdPut } from './types.js'

/** An entry on its way to disk, as the tier above handed it down. */
export interface ColdEntry {
  key: string
  stored: Uint8Array
  expiresAt: number
}

export interface ColdTierStats {
  entries: number
  bytes: number
  diskBytes: number
  hits: number
}

export interface ColdTierOptions extends ColdStoreOptions {
  segmentBytes: number
  /** Demotions staged but not yet written may hold at most this many bytes; past it, demotions are refused. */
  maxStagedBytes: number
}

const toPut = (entry: ColdEntry): ColdPut => ({ key: entry.key, value: entry.stored, expiresAt: entry.expiresAt })

/**
 * The cold tier as the stack sees it: an actor around the `ColdStore` that
 * keeps the one invariant the stack relies on, **the store holds either
 * nothing for a key or its current value**:
 *
 * - demotions are staged in memory (readable at once) until their batch is
 *   written, so an entry is never in no tier while it moves down;
 * - a write or delete of a key masks its disk copy at once and writes a
 *   tombstone behind it, so no read can reach the older value;
 * - after a failed write the tier refuses demotions until a write succeeds.
 *
 * Reads wait for the store to open; everything else in the cache does not.
 */
export class ColdTier {
  readonly name = 'cold'
  readonly ready: Promise<ColdStore>
  hits = 0
  #store: ColdStore | undefined
  readonly #staged = new Map<string, ColdEntry>()
  #stagedBytes = 0
  readonly #masked = new Map<string, number>()
  #refusing = false
  readonly #options: ColdTierOptions

  constructor(options: ColdTierOptions) {
    this.#options = options
    this.ready = ColdStore.open(options).then((store) => (this.#store = store))
    this.ready.catch(() => undefined) // the cache reports it; an unwatched `ready` must not crash the process
  }

  get dir(): string {
    return this.#options.dir
  }

  /** Whether the key's value is staged or on disk, without I/O; false until the store is open. */
  holds(key: string, now: number): boolean {
    const staged = this.#staged.get(key)
    if (staged !== undefined) return staged.expiresAt === 0 || staged.expiresAt > now
    return !this.#masked.has(key) && this.#store !== undefined && this.#store.has(key)
  }

  /** The key's bytes, from the staging area or the disk; waits for the store to open. */
  async read(key: string, now: () => number): Promise<ColdEntry | undefined> {
    const staged = this.#staged.get(key)
    if (staged !== undefined) return this.#hit(staged, now())
    const store = this.#store ?? (await this.ready)
    if (this.#masked.has(key) || !store.has(key)) return undefined
    const hit = await store.get(key)
    if (hit === undefined || this.#masked.has(key)) return undefined
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

  /** Drops a staged entry that expired before its batch left. */
  unstage(entry: ColdEntry): void {
    if (this.#staged.get(entry.key) === entry) this.#unstage(entry.key)
  }

  /** Writes a batch of staged entries: one group-committed write. Entries replaced or masked since are skipped. */
  async write(batch: readonly ColdEntry[]): Promise<void> {
    const store = this.#store ?? (await this.ready)
    const live = batch.filter((entry) => this.#staged.get(entry.key) === entry)
    if (live.length === 0) return
    try {
      await store.putMany(live.map(toPut))
      this.#refusing = false
    } catch (error) {
      this.#refusing = true
      throw this.#ioError(error, 'write demoted entries to')
    } finally {
      for (const entry of live) this.unstage(entry)
    }
  }

  /** Puts entries the store does not hold yet, for a checkpoint: the caller fsyncs after. */
  async put(entries: readonly ColdEntry[]): Promise<void> {
    if (entries.length === 0) return
    const store = this.#store ?? (await this.ready)
    try {
      await store.putMany(entries.map(toPut))
    } catch (error) {
      throw this.#ioError(error, 'checkpoint into')
    }
  }

  /**
   * Makes the key's disk copy unreachable now, and deletes it behind: a
   * tombstone, written after any write of the key already in flight. Resolves
   * when the tombstone is written; true when there was a copy.
   */
  async invalidate(key: string): Promise<boolean> {
    const wasStaged = this.#unstage(key)
    if (this.#store !== undefined && !wasStaged && !this.#store.has(key)) return false
    this.#masked.set(key, (this.#masked.get(key) ?? 0) + 1)
    try {
      const store = this.#store ?? (await this.ready)
      const existed = (await store.delete(key)) || wasStaged
      this.#unmask(key)
      return existed
    } catch (error) {
      // Left masked: the older value may still be on disk, and must stay unreachable.
      throw this.#ioError(error, 'delete from')
    }
  }

  /** Whether an encoded value of this size, under this key, fits one segment. */
  fits(key: string, encodedBytes: number): boolean {
    return recordLength(Buffer.byteLength(key), encodedBytes) <= this.#options.segmentBytes
  }

  /** Whether a write or delete of the key must reach the disk copy: false only when the open store is known not to hold it. */
  mayHold(key: string): boolean {
    return this.#store === undefined || this.#staged.has(key) || this.#store.has(key)
  }

  async clear(): Promise<void> {
    this.#staged.clear()
    this.#stagedBytes = 0
    const store = this.#store ?? (await this.ready)
    await store.clear()
  }

  async sync(): Promise<void> {
    const store = this.#store ?? (await this.ready)
    await store.sync()
  }

  /** One slice of compaction and size enforcement; true while more is due. */
  async maintain(budget?: number): Promise<boolean> {
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

  /** Closes the store once it is open (or has failed to open). */
  async close(): Promise<void> {
    const store = await this.ready.catch(() => undefined)
    await store?.close()
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

  #unmask(key: string): void {
    const count = (this.#masked.get(key) ?? 1) - 1
    if (count === 0) this.#masked.delete(key)
    else this.#masked.set(key, count)
  }

  #ioError(error: unknown, what: string): CacheError {
    return isCacheError(error) ? error : new CacheError('E_IO', `cannot ${what} ${this.dir}`, { cause: error })
  }
}
