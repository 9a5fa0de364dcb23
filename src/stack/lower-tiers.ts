import type { Observable } from 'rxjs'
import type { SharedRecords } from '../codec/shared-records.js'
import type { LocalVersions } from '../coherence/local-versions.js'
import type { ResolvedOptions } from '../options/options.js'
import type { RemoteLink } from '../remote/remote-link.js'
import { RemoteTier } from '../remote/remote-tier.js'
import { ColdTier } from '../tiers/cold/cold-tier.js'
import type { LowerTier } from '../tiers/lower-tier.js'
import { type LeaveJudge, lowerExits } from './lower-exits.js'
import { GuardedTier } from './tier-health.js'

/** The remote tier's connection, and where the versions of the copies it brings up are kept. */
export interface RemoteTierParts {
  link: RemoteLink
  versions: LocalVersions
  /** Emits when the bus, on the same server, connects again: a degraded remote tier is probed then. */
  serverBack?: Observable<unknown>
}

/**
 * The tiers below memory that the options configure, in lookup order: the
 * disk takes memory's evictions. A new tier implements `LowerTier` and is
 * added here, behind a `GuardedTier`: a tier that fails degrades, and is
 * retried until it works again. `records`: the record shapes of the bytes
 * the cache keeps itself, which the disk saves with its values.
 */
export function createLowerTiers(options: ResolvedOptions, judge: LeaveJudge, remote?: RemoteTierParts, records?: SharedRecords): LowerTier[] {
  const tiers: LowerTier[] = []
  const tags = judge.tags
  if (options.cold !== false) {
    const tagIndex = { of: (key: string) => tags.tagsOf(key), restore: (key: string, list: readonly string[]) => tags.set(key, list) }
    const { cold, scheduler } = options
    tiers.push(
      new GuardedTier('cold', judge.notifier, scheduler, (failed) => new ColdTier(cold, scheduler, lowerExits('cold', judge, failed), tagIndex, records)),
    )
  }
  if (remote !== undefined) {
    const { link, versions, serverBack } = remote
    const scheduler = options.scheduler
    tiers.push(
      new GuardedTier(
        'remote',
        judge.notifier,
        scheduler,
        (failed) => new RemoteTier(link, lowerExits('remote', judge, failed), versions, scheduler),
        serverBack,
      ),
    )
  }
  return tiers
}
