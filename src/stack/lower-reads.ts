import type { Codec } from '../codec/codec.js'
import { CacheError } from '../errors.js'
import type { LowerEntry, LowerTier } from '../tiers/lower-tier.js'

/** One key being read from the tiers below memory. */
class LowerRead<V> {
  /** A write, delete or clear of the key came after the read began: what it finds goes to its callers, not up. */
  superseded = false
  promise: Promise<V | undefined> | undefined = undefined
  /** A read of a bulk call gets its own promise only when another caller joins it: these settle it. */
  resolve: ((value: V | undefined) => void) | undefined = undefined
  reject: ((error: unknown) => void) | undefined = undefined
}

/** What the stack does with what a read found. */
export interface ReadOutcome<V> {
  /** The key's bytes could not be decoded: its value is gone (the tiers drop their copies). */
  lost(key: string, error: CacheError): void
  /** Found in `tier`, and nothing overtook the read: the stack may move it up. */
  found(key: string, value: V, entry: LowerEntry, tier: LowerTier): void
  /** Counts a caller's hit (`tier`) or miss (undefined). */
  counted(key: string, tier: LowerTier | undefined): void
}

/**
 * Reads of the tiers below memory, in their order: one read per key at a
 * time, which later callers join. A Map of the reads under way and one
 * promise per read; each caller's hit or miss is counted.
 */
export class LowerReads<V> {
  readonly #tiers: readonly LowerTier[]
  readonly #codec: Codec
  readonly #outcome: ReadOutcome<V>
  readonly #reads = new Map<string, LowerRead<V>>()

  constructor(tiers: readonly LowerTier[], codec: Codec, outcome: ReadOutcome<V>) {
    this.#tiers = tiers
    this.#codec = codec
    this.#outcome = outcome
  }

  read(key: string): Promise<V | undefined> {
    const joined = this.#reads.get(key)
    if (joined !== undefined) return this.#join(key, joined)
    const read = new LowerRead<V>()
    this.#reads.set(key, read)
    read.promise = this.#from(0, key, read)
    return read.promise
  }

  /**
   * `read` of each key, in order, with one request of each tier for the keys
   * not read already (those join the read under way): each key's read is
   * joined, superseded, moved up and counted as a single read is.
   */
  readMany(keys: readonly string[]): Promise<(V | undefined)[]> {
    const results = new Array<V | undefined>(keys.length)
    let joins: Promise<unknown>[] | undefined
    const own: string[] = []
    const ownAt: number[] = []
    const reads: LowerRead<V>[] = []
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      results[i] = undefined
      const joined = this.#reads.get(key)
      if (joined !== undefined) {
        const at = i
        ;(joins ??= []).push(this.#join(key, joined).then((value) => (results[at] = value)))
        continue
      }
      const read = new LowerRead<V>()
      this.#reads.set(key, read)
      own.push(key)
      ownAt.push(i)
      reads.push(read)
    }
    const ours = own.length === 0 ? undefined : this.#manyFrom(0, own, reads, ownAt, results)
    if (joins === undefined) return ours === undefined ? Promise.resolve(results) : ours.then(() => results)
    if (ours !== undefined) joins.push(ours)
    return Promise.all(joins).then(() => results)
  }

  /** The value below memory, as `peek` reads memory: neither moved up nor counted, nor shared. */
  async peek(key: string): Promise<V | undefined> {
    for (const tier of this.#tiers) {
      const entry = await tier.read(key)
      if (entry !== undefined) return this.#decode(key, entry)
    }
    return undefined
  }

  /** Whether a tier below memory holds the key's live value, asked in order from tier `index` on. */
  has(key: string, index = 0): boolean | Promise<boolean> {
    const tier = this.#tiers[index]
    if (tier === undefined) return false
    const has = tier.has(key)
    if (has === true) return true
    if (has === false) return this.has(key, index + 1)
    return has.then((found) => found || this.has(key, index + 1))
  }

  /** The key was written or deleted: a read under way must not move what it finds up, and the next read starts afresh. */
  supersede(key: string): void {
    const read = this.#reads.get(key)
    if (read === undefined) return
    read.superseded = true
    this.#reads.delete(key)
  }

  supersedeAll(): void {
    for (const read of this.#reads.values()) read.superseded = true
    this.#reads.clear()
  }

  #join(key: string, joined: LowerRead<V>): Promise<V | undefined> {
    joined.promise ??= new Promise<V | undefined>((resolve, reject) => {
      joined.resolve = resolve
      joined.reject = reject
    })
    const outcome = this.#outcome
    return joined.promise.then((value) => {
      outcome.counted(key, value === undefined ? undefined : this.#tiers[0])
      return value
    })
  }

  /** The bulk reads of `keys` from tier `index` on; each key's value goes to `results[at[i]]`. */
  #manyFrom(index: number, keys: string[], reads: LowerRead<V>[], at: number[], results: (V | undefined)[]): Promise<void> {
    const tier = this.#tiers[index]
    const last = index + 1 === this.#tiers.length
    return tier.readMany(keys).then(
      (entries) => {
        let missed: { keys: string[]; reads: LowerRead<V>[]; at: number[] } | undefined
        let failure: { error: unknown } | undefined
        for (let i = 0; i < keys.length; i++) {
          const entry = entries[i]
          if (entry === undefined && !last) {
            missed ??= { keys: [], reads: [], at: [] }
            missed.keys.push(keys[i])
            missed.reads.push(reads[i])
            missed.at.push(at[i])
            continue
          }
          const read = reads[i]
          // A listener that throws fails this key as it would fail a single read: the others still settle.
          let value: V | undefined
          try {
            value = this.#settle(keys[i], read, entry, tier)
          } catch (error) {
            failure ??= { error }
            read.reject?.(error)
            continue
          }
          results[at[i]] = value
          read.resolve?.(value)
        }
        const next = missed === undefined ? undefined : this.#manyFrom(index + 1, missed.keys, missed.reads, missed.at, results)
        if (failure === undefined) return next
        next?.catch(() => undefined) // this call fails with the first error; the rest is seen
        throw failure.error
      },
      (error: unknown) => {
        for (let i = 0; i < keys.length; i++) {
          const read = reads[i]
          this.#end(keys[i], read)
          read.reject?.(error)
        }
        throw error
      },
    )
  }

  #from(index: number, key: string, read: LowerRead<V>): Promise<V | undefined> {
    const tier = this.#tiers[index]
    return tier.read(key).then(
      (entry) => {
        if (entry === undefined && index + 1 < this.#tiers.length) return this.#from(index + 1, key, read)
        return this.#settle(key, read, entry, tier)
      },
      (error: unknown) => {
        this.#end(key, read)
        throw error
      },
    )
  }

  #settle(key: string, read: LowerRead<V>, entry: LowerEntry | undefined, tier: LowerTier): V | undefined {
    this.#end(key, read)
    const outcome = this.#outcome
    const value = entry === undefined ? undefined : this.#decode(key, entry)
    if (value === undefined) {
      outcome.counted(key, undefined)
      return undefined
    }
    if (!read.superseded) outcome.found(key, value, entry as LowerEntry, tier)
    outcome.counted(key, tier)
    return value
  }

  #decode(key: string, entry: LowerEntry): V | undefined {
    try {
      return this.#codec.decode(entry.stored) as V
    } catch (error) {
      this.#outcome.lost(key, new CacheError('E_CODEC', `cannot decode the value of '${key}' read from disk`, { cause: error }))
      for (const tier of this.#tiers) tier.invalidate(key)?.catch(() => undefined)
      return undefined
    }
  }

  #end(key: string, read: LowerRead<V>): void {
    if (this.#reads.get(key) === read) this.#reads.delete(key)
  }
}
