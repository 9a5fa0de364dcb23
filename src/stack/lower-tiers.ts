import type { ResolvedOptions } from '../options/options.js'
import { ColdTier } from '../tiers/cold/cold-tier.js'
import type { LowerTier } from '../tiers/lower-tier.js'
import { type LeaveJudge, lowerExits } from './lower-exits.js'

/**
 * The tiers below memory that the options configure, in lookup order: the
 * first takes memory's evictions. A new tier implements `LowerTier` and is
 * added here.
 */
export function createLowerTiers(options: ResolvedOptions, judge: LeaveJudge): LowerTier[] {
  const tiers: LowerTier[] = []
  const tags = judge.tags
  if (options.cold !== false) {
    const tagIndex = { of: (key: string) => tags.tagsOf(key), restore: (key: string, list: readonly string[]) => tags.set(key, list) }
    tiers.push(new ColdTier(options.cold, options.scheduler, lowerExits('cold', judge), tagIndex))
  }
  return tiers
}
