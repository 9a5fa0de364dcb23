/**
 * Set with eviction: every set brings a key the cache does not hold into a
 * full cache, so each one inserts and evicts. `await cache.set` vs
 * `await lru.set`: both awaited, because a caller of strata-cache pays for the
 * Promise and the microtask turn, and an `await` on lru-cache's return value
 * costs the same turn; without it the ratio would mostly measure one
 * microtask. The unawaited lru.set is shown as a second, information-only row.
 * Warm is off, as by default, so evictions leave the cache as in lru-cache.
 *
 * Rows: the default contract (`values: 'data'`: each value is checked to be
 * data the codec gives back as it was; the benchmark sets the same 1,024
 * records again and again, which after their first set are frozen and
 * their check remembered); the same with a new deep copy of the record
 * for every set (as values read from a database or a response are: each is
 * checked and frozen in full);
 * `values: 'any'`, lru-cache's contract (any value, by reference), where the
 * memory tier and its policy are what is measured; the same with the `'lru'`
 * policy (information: what W-TinyLFU's admission costs); and the default
 * against an unawaited lru.set (information: the price of the Promise API).
 */
import { LRUCache } from 'lru-cache'
import { type CacheOptions, createCache } from '../src/index.js'
import { compare, compareMeasured, makeKeys, report, roundsFromArgs } from './harness.js'
import { makeRecord, type ProductRecord } from './records.js'

const CAPACITY = 10_000
// Keys cycle through a pool 10× the capacity: a key comes back only long after it was evicted.
const POOL = 100_000
const OPS = 50_000
const VALUE_MASK = 1023

const keys = makeKeys(POOL)
const values = Array.from({ length: VALUE_MASK + 1 }, (_, i) => makeRecord(i))

async function strataSide(options: Pick<CacheOptions, 'values'> & { policy?: 'lru' } = {}) {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: CAPACITY, policy: options.policy }, values: options.values })
  let next = 0
  for (; next < CAPACITY; next++) await cache.set(keys[next], values[next & VALUE_MASK])
  return async (ops: number) => {
    for (let i = 0; i < ops; i++, next++) await cache.set(keys[next % POOL], values[next & VALUE_MASK])
    return cache.stats().evictions
  }
}

/** Sets of new deep copies of the records, each side with copies of its own made before its timed run. */
const FRESH_OPS = 20_000

async function freshSides(): Promise<{ strata: () => Promise<number>; lru: () => Promise<number> }> {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: CAPACITY } })
  const lru = new LRUCache<string, ProductRecord>({ max: CAPACITY })
  let next = 0
  for (; next < CAPACITY; next++) {
    await cache.set(keys[next], structuredClone(values[next & VALUE_MASK]))
    lru.set(keys[next], structuredClone(values[next & VALUE_MASK]))
  }
  const timed = async (set: (key: string, value: ProductRecord) => unknown): Promise<number> => {
    const copies = Array.from({ length: FRESH_OPS }, (_, i) => structuredClone(values[(next + i) & VALUE_MASK]))
    // The garbage of making them is not the side's to collect.
    globalThis.gc?.()
    const start = process.hrtime.bigint()
    for (let i = 0; i < FRESH_OPS; i++, next++) await set(keys[next % POOL], copies[i])
    return Number(process.hrtime.bigint() - start) / FRESH_OPS
  }
  return { strata: () => timed((key, value) => cache.set(key, value)), lru: () => timed((key, value) => lru.set(key, value)) }
}

function lruSide(awaited: boolean) {
  const lru = new LRUCache<string, ProductRecord>({ max: CAPACITY })
  let next = 0
  for (; next < CAPACITY; next++) lru.set(keys[next], values[next & VALUE_MASK])
  if (!awaited) {
    return (ops: number) => {
      for (let i = 0; i < ops; i++, next++) lru.set(keys[next % POOL], values[next & VALUE_MASK])
      return lru.size
    }
  }
  return async (ops: number) => {
    for (let i = 0; i < ops; i++, next++) await lru.set(keys[next % POOL], values[next & VALUE_MASK])
    return lru.size
  }
}

const rounds = roundsFromArgs(21)
const common = `capacity ${CAPACITY}, keys cycling through ${POOL} so every set evicts, warm off`
const awaited = await compare(await strataSide(), lruSide(true), { ops: OPS, rounds })
report({
  id: 'set-eviction',
  title: 'set with eviction: await set',
  strata: awaited.a,
  baseline: awaited.b,
  baselineName: 'await lru.set',
  unit: 'ns/op',
  ratio: awaited.ratio,
  spread: awaited.spread,
  target: 2.5,
  notes: [`${common}; both awaited (a strata-cache caller always pays the await), ${rounds} rounds`],
})
const fresh = await freshSides()
const freshRun = await compareMeasured(fresh.strata, fresh.lru, { rounds })
report({
  id: 'set-eviction-fresh',
  title: 'set with eviction, a new copy each set',
  strata: freshRun.a,
  baseline: freshRun.b,
  baselineName: 'await lru.set',
  unit: 'ns/op',
  ratio: freshRun.ratio,
  spread: freshRun.spread,
  notes: [
    `${common}; default contract, every value a new deep copy (structuredClone, made before the timed run) checked and frozen in full: information, what a set of data read from elsewhere costs; both awaited, ${rounds} rounds`,
  ],
})
const any = await compare(await strataSide({ values: 'any' }), lruSide(true), { ops: OPS, rounds })
report({
  id: 'set-eviction-any',
  title: "set with eviction, values: 'any': await set",
  strata: any.a,
  baseline: any.b,
  baselineName: 'await lru.set',
  unit: 'ns/op',
  ratio: any.ratio,
  spread: any.spread,
  target: 1.3,
  notes: [`${common}; values: 'any' (lru-cache's contract: no check of the value), default policy (W-TinyLFU), both awaited, ${rounds} rounds`],
})
const anyLru = await compare(await strataSide({ values: 'any', policy: 'lru' }), lruSide(true), { ops: OPS, rounds })
report({
  id: 'set-eviction-any-lru-policy',
  title: "set with eviction, values: 'any', policy 'lru'",
  strata: anyLru.a,
  baseline: anyLru.b,
  baselineName: 'await lru.set',
  unit: 'ns/op',
  ratio: anyLru.ratio,
  spread: anyLru.spread,
  notes: [`${common}; as the row above with policy 'lru': information, what W-TinyLFU's admission adds, ${rounds} rounds`],
})
const bare = await compare(await strataSide(), lruSide(false), { ops: OPS, rounds })
report({
  id: 'set-eviction-sync-lru',
  title: 'set with eviction, lru.set not awaited',
  strata: bare.a,
  baseline: bare.b,
  baselineName: 'lru.set (sync)',
  unit: 'ns/op',
  ratio: bare.ratio,
  spread: bare.spread,
  notes: [`${common}; information only: the price of the Promise API itself, ${rounds} rounds`],
})
