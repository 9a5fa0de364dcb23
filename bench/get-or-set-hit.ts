/**
 * getOrSet hit: `await cache.getOrSet(k, factory)` vs `await lru.get(k)`,
 * every key present, so the factory never runs. This is the path the
 * re-entry check must leave alone: it runs only when a flight for the key is
 * already open, never on a hit.
 *
 * A second, information-only row compares the same hits while a factory (of
 * another cache) is pending with the same hits while none is: re-entry
 * tracking (AsyncLocalStorage) is on only while some factory runs, and on
 * Node 20 it then charges every promise in the process.
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

const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } })

async function strataSide() {
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

const rounds = roundsFromArgs(21)
const strata = await strataSide()
const lru = lruSide()
const result = await compare(strata, lru, { ops: OPS, rounds })
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

// The same hits with a factory of another cache pending for the whole batch, against the same hits with none.
const busy = createCache<string>()
const duringLoad = async (ops: number): Promise<unknown> => {
  let release!: (value: string) => void
  const load = busy.getOrSet('pending', () => new Promise<string>((resolve) => (release = resolve)))
  const found = await strata(ops)
  release('done')
  await load
  await busy.delete('pending')
  return found
}
const during = await compare(duringLoad, strata, { ops: OPS, rounds })
await busy.close()
await cache.close()
report({
  id: 'get-or-set-hit-during-load',
  title: 'getOrSet hit while a factory runs',
  strata: during.a,
  baseline: during.b,
  baselineName: 'the same, no factory running',
  unit: 'ns/op',
  ratio: during.ratio,
  spread: during.spread,
  notes: [
    `re-entry tracking (AsyncLocalStorage) is on while any factory runs; on Node ${process.versions.node.split('.')[0]} it charges every promise; information only, ${rounds} rounds`,
  ],
})
