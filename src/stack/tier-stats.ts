import type { ColdTierStats, TierStats } from '../observe/stats.js'
import type { LowerTier } from '../tiers/lower-tier.js'
import type { HotTier } from '../tiers/memory/hot-tier.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'

const NO_TIER: TierStats = { entries: 0, bytes: 0, hits: 0 }
const NO_COLD: ColdTierStats = { entries: 0, bytes: 0, diskBytes: 0, hits: 0, state: 'ok' }

/** Each tier's figures for `stats()`: absent tiers as zeros. */
export function tierStats(hot: HotTier, warm: WarmTier | undefined, below: LowerTier | undefined): { hot: TierStats; warm: TierStats; cold: ColdTierStats } {
  return {
    hot: { entries: hot.entries, bytes: hot.bytes, hits: hot.hits },
    warm: warm === undefined ? NO_TIER : { entries: warm.entries, bytes: warm.bytes, hits: warm.hits },
    cold: below === undefined ? NO_COLD : below.stats(),
  }
}
