/** Hot hit: `await cache.get(k)` vs `await lru.get(k)`, every key present, with the default policy. */
import { createCache } from '../src/index.js'
import { compare, report, roundsFromArgs } from './harness.js'
import { ENTRIES, lruGets, OPS, strataGets } from './hot-hit-fixture.js'
import type { ProductRecord } from './records.js'

const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } })
const result = await compare(await strataGets(cache), lruGets(), { ops: OPS, rounds: roundsFromArgs(21) })
await cache.close()
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
