import type { CacheError } from '../errors.js'
import type { EvictionReason, TierName } from '../observe/events.js'
import type { Notifier } from '../observe/notifier.js'
import type { TagIndex } from '../tags/tag-index.js'
import type { LowerLeaveReason, LowerTierExits } from '../tiers/lower-tier.js'

/** What judging a lower tier's reports needs of the stack. */
export interface LeaveJudge {
  readonly notifier: Notifier<unknown>
  readonly tags: TagIndex
  /** Whether hot or warm holds a live entry for the key. */
  holdsInMemory(key: string): boolean
  /** The entry left the cache; what its write owes the tiers below goes down. */
  left(key: string, tier: TierName, reason: EvictionReason): void
}

/**
 * What a lower tier reports, judged by the stack: whether memory still
 * holds the key decides whether a value that left the tier left the cache.
 */
export function lowerExits(name: TierName, judge: LeaveJudge, failed: (error: CacheError) => void): LowerTierExits {
  const notifier = judge.notifier
  const left = (key: string, reason: LowerLeaveReason): void => {
    switch (reason) {
      case 'too-large':
        return notifier.evicted(key, name, 'too-large')
      case 'closing':
        return notifier.evicted(key, name, 'capacity')
      case 'expired-in-transit':
        return notifier.expired(key)
    }
    // Memory's copy is the key's value still: nothing left the cache.
    if (judge.holdsInMemory(key)) return
    if (reason === 'evicted') notifier.evicted(key, name, 'capacity')
    else if (reason === 'io') judge.left(key, name, 'io')
    // An entry that expired or was found corrupt takes its tags with it; its expiry was told above, or is no one's.
    else judge.tags.remove(key)
  }
  return { left, error: (error, key) => notifier.error(error, key), failed }
}
