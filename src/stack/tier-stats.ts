import type { CacheStats, ColdTierStats, RemoteTierStats, TierStats } from '../observe/stats.js'
import type { LowerTier } from '../tiers/lower-tier.js'
import type { HotTier } from '../tiers/memory/hot-tier.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'

const NO_TIER: TierStats = { entries: 0, bytes: 0, hits: 0 }
const NO_COLD: ColdTierStats = { entries: 0, bytes: 0, diskBytes: 0, hits: 0, state: 'ok' }
const NO_REMOTE: RemoteTierStats = { hits: 0, state: 'ok' }

/** Each tier's figures for `stats()`: absent tiers as zeros. `below`: the tier that takes memory's evictions (the disk). */
export function tierStats(hot: HotTier, warm: WarmTier | undefined, below: LowerTier | undefined, lower: readonly LowerTier[]): CacheStats['tiers'] {
  const remote = lower.find((tier) => tier.name === 'remote')?.stats()
  return {
    hot: { entries: hot.entries, bytes: hot.bytes, hits: hot.hits },
    warm: warm === undefined ? NO_TIER : { entries: warm.entries, bytes: warm.bytes, hits: warm.hits },
    cold: below === undefined ? NO_COLD : below.stats(),
    remote: remote === undefined ? NO_REMOTE : { hits: remote.hits, state: remote.state },
  }
}
