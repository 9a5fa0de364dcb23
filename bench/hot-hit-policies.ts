/**
 * Hot hit per policy: `await cache.get(k)` with each eviction policy vs
 * `await lru.get(k)`, every key present. Information for issue 5, whose
 * target is that the default policy still meets the hot-hit target (≤ 1.5).
 */
import { createCache } from '../src/index.js'
import { POLICY_NAMES } from '../src/policies/index.js'
import { compare, report, roundsFromArgs } from './harness.js'
import { ENTRIES, HotHitFixture, OPS } from './hot-hit-fixture.js'
import type { ProductRecord } from './records.js'

const fixture = new HotHitFixture()
const lruSide = fixture.lruGets()
for (const policy of POLICY_NAMES) {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES, policy } })
  const result = await compare(await fixture.strataGets(cache), lruSide, { ops: OPS, rounds: roundsFromArgs(11) })
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
