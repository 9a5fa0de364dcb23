/**
 * Hot hit: `await cache.get(k)` vs `await lru.get(k)`, every key present.
 * Both sides are awaited: callers of strata-cache always await, and an
 * `await` on lru-cache's plain value costs the same microtask turn.
 */
import { LRUCache } from 'lru-cache'
import { createCache } from '../src/index.js'
import { accessOrder, compare, makeKeys, report, roundsFromArgs } from './harness.js'
import { makeRecord, prng, type ProductRecord } from './records.js'

const ENTRIES = 10_000
const OPS = 100_000
const MASK = (1 << 16) - 1

const keys = makeKeys(ENTRIES)
const values = keys.map((_, i) => makeRecord(i))
const order = accessOrder(ENTRIES, MASK + 1, prng(7))

async function strataSide() {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } })
  for (let i = 0; i < ENTRIES; i++) await cache.set(keys[i], values[i])
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}

function lruSide() {
  const lru = new LRUCache<string, ProductRecord>({ max: ENTRIES })
  keys.forEach((key, i) => lru.set(key, values[i]))
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await lru.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}

const result = await compare(await strataSide(), lruSide(), { ops: OPS, rounds: roundsFromArgs(21) })
report({
  id: 'hot-hit',
  title: 'hot hit: await get',
  strata: result.a,
  baseline: result.b,
  baselineName: 'await lru.get',
  unit: 'ns/op',
  ratio: result.ratio,
  spread: result.spread,
  target: 1.5,
  notes: [`${ENTRIES} entries on both sides, random keys from a seeded order, both awaited, ${result.rounds} rounds`],
})
