/**
 * Hot hit: `await cache.get(k)` vs `await lru.get(k)`, every key present,
 * with the default policy, at 10,000, 100,000 and 1,000,000 entries (one
 * size at a time, each with its own lru-cache, both filled alike): larger
 * tiers take a hit's bookkeeping out of the CPU's caches.
 */
import { createCache } from '../src/index.js'
import { compare, report, roundsFromArgs } from './harness.js'
import { HotHitFixture, OPS } from './hot-hit-fixture.js'
import type { ProductRecord } from './records.js'

const SIZES = [10_000, 100_000, 1_000_000]

for (const entries of SIZES) {
  const fixture = new HotHitFixture(entries)
  const cache = createCache<ProductRecord>({ hot: { maxEntries: entries } })
  const result = await compare(await fixture.strataGets(cache), fixture.lruGets(), { ops: OPS, rounds: roundsFromArgs(21) })
  await cache.close()
  report({
    id: entries === 10_000 ? 'hot-hit' : `hot-hit-${entries / 1000}k`,
    title: `hot hit: await get, ${entries.toLocaleString('en')} entries`,
    strata: result.a,
    baseline: result.b,
    baselineName: 'await lru.get',
    unit: 'ns/op',
    ratio: result.ratio,
    spread: result.spread,
    target: 1.15,
    notes: [`${entries} entries on both sides, random keys from a seeded order, both awaited, ${result.rounds} rounds`],
  })
}
