/**
 * getOrSet hit: `await cache.getOrSet(k, factory)` vs `await lru.get(k)`,
 * every key present, so the factory never runs. This is the path the
 * re-entry check must leave alone: it runs only when a flight for the key is
 * already open, never on a hit.
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
const factory = (): ProductRecord => {
  throw new Error('every key is present: the factory must not run')
}

async function strataSide() {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } })
  for (let i = 0; i < ENTRIES; i++) await cache.set(keys[i], values[i])
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.getOrSet(keys[order[i & MASK]], factory)) !== undefined) found++
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
  id: 'get-or-set-hit',
  title: 'getOrSet hit: await getOrSet',
  strata: result.a,
  baseline: result.b,
  baselineName: 'await lru.get',
  unit: 'ns/op',
  ratio: result.ratio,
  spread: result.spread,
  notes: [`${ENTRIES} entries on both sides, random keys from a seeded order, every key present, ${result.rounds} rounds`],
})
