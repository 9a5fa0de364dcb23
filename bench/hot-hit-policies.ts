/**
 * Hot hit per policy: `await cache.get(k)` with each eviction policy vs
 * `await lru.get(k)`, every key present. Information for issue 5, whose
 * target is that the default policy still meets the hot-hit target (≤ 1.5).
 */
import { LRUCache } from 'lru-cache'
import { createCache } from '../src/index.js'
import { POLICY_NAMES } from '../src/policies/index.js'
import { accessOrder, compare, makeKeys, report, roundsFromArgs } from './harness.js'
import { makeRecord, prng, type ProductRecord } from './records.js'

const ENTRIES = 10_000
const OPS = 100_000
const MASK = (1 << 16) - 1

const keys = makeKeys(ENTRIES)
const values = keys.map((_, i) => makeRecord(i))
const order = accessOrder(ENTRIES, MASK + 1, prng(7))

const lru = new LRUCache<string, ProductRecord>({ max: ENTRIES })
keys.forEach((key, i) => lru.set(key, values[i]))
const lruSide = async (ops: number) => {
  let found = 0
  for (let i = 0; i < ops; i++) if ((await lru.get(keys[order[i & MASK]])) !== undefined) found++
  return found
}

for (const policy of POLICY_NAMES) {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES, policy } })
  for (let i = 0; i < ENTRIES; i++) await cache.set(keys[i], values[i])
  const strataSide = async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
  const result = await compare(strataSide, lruSide, { ops: OPS, rounds: roundsFromArgs(11) })
  report({
    id: `hot-hit-${policy}`,
    title: `hot hit, policy ${policy}`,
    strata: result.a,
    baseline: result.b,
    baselineName: 'await lru.get',
    unit: 'ns/op',
    ratio: result.ratio,
    spread: result.spread,
    target: 1.5,
    notes: [`${ENTRIES} entries, policy '${policy}', both awaited, ${result.rounds} rounds`],
  })
  await cache.close()
}
