/**
 * What the hot-hit benchmarks share: 10,000 ~1 KiB records on each side,
 * read in one seeded random order, every key present, both sides awaited
 * (every strata-cache caller pays the `await`, and an `await` on lru-cache's
 * plain value costs the same microtask turn).
 */
import { LRUCache } from 'lru-cache'
import type { Cache } from '../src/index.js'
import { accessOrder, makeKeys } from './harness.js'
import { makeRecord, prng, type ProductRecord } from './records.js'

export const ENTRIES = 10_000
export const OPS = 100_000
const MASK = (1 << 16) - 1

const keys = makeKeys(ENTRIES)
const values = keys.map((_, i) => makeRecord(i))
const order = accessOrder(ENTRIES, MASK + 1, prng(7))

/** `ops` awaited gets of `cache`, filled with every record first. */
export async function strataGets(cache: Cache<ProductRecord>): Promise<(ops: number) => Promise<number>> {
  for (let i = 0; i < ENTRIES; i++) await cache.set(keys[i], values[i])
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}

/** The same gets, awaited, on an lru-cache of the same records. */
export function lruGets(): (ops: number) => Promise<number> {
  const lru = new LRUCache<string, ProductRecord>({ max: ENTRIES })
  keys.forEach((key, i) => lru.set(key, values[i]))
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await lru.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}
