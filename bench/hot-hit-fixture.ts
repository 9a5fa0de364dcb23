/**
 * What the hot-hit benchmarks share: `entries` ~1 KiB records on each side
 * (10,000 distinct ones; larger tiers repeat them, which a hit never looks
 * into), read in one seeded random order, every key present, both sides
 * awaited (every strata-cache caller pays the `await`, and an `await` on
 * lru-cache's plain value costs the same microtask turn).
 */
import { LRUCache } from 'lru-cache'
import type { Cache } from '../src/index.js'
import { accessOrder, makeKeys } from './harness.js'
import { makeRecord, prng, type ProductRecord } from './records.js'

export const ENTRIES = 10_000
export const OPS = 100_000
const MASK = (1 << 16) - 1
const RECORDS = Array.from({ length: ENTRIES }, (_, i) => makeRecord(i))

/** Keys, values and one access order for a tier of `entries`: both sides read the same keys in the same order. */
export class HotHitFixture {
  readonly keys: string[]
  readonly #order: Uint32Array

  constructor(readonly entries: number = ENTRIES) {
    this.keys = makeKeys(entries)
    this.#order = accessOrder(entries, MASK + 1, prng(7))
  }

  valueOf(index: number): ProductRecord {
    return RECORDS[index % ENTRIES]
  }

  /** `ops` awaited gets of `cache`, filled with every record first. */
  async strataGets(cache: Cache<ProductRecord>): Promise<(ops: number) => Promise<number>> {
    const { keys } = this
    for (let i = 0; i < keys.length; i++) await cache.set(keys[i], this.valueOf(i))
    return this.#gets((key) => cache.get(key))
  }

  /** The same gets, awaited, on an lru-cache of the same records. */
  lruGets(): (ops: number) => Promise<number> {
    const lru = new LRUCache<string, ProductRecord>({ max: this.entries })
    this.keys.forEach((key, i) => lru.set(key, this.valueOf(i)))
    return this.#gets((key) => lru.get(key))
  }

  #gets(get: (key: string) => Promise<ProductRecord | undefined> | ProductRecord | undefined): (ops: number) => Promise<number> {
    const { keys } = this
    const order = this.#order
    let cursor = 0
    return async (ops: number) => {
      let found = 0
      for (let i = 0; i < ops; i++) if ((await get(keys[order[cursor++ & MASK]])) !== undefined) found++
      return found
    }
  }
}
