/**
 * An eviction policy orders the slots of one tier. The tier owns keys and
 * values; the policy sees only slot numbers, so that its bookkeeping can live
 * in typed arrays and a hit allocates nothing.
 *
 * Call order: `grow` before a slot at or past the old capacity is used;
 * `insert` once per stored entry, then any number of `touch`; the entry leaves
 * through exactly one of `remove` (deleted, expired) or `evict` (capacity).
 */
export interface EvictionPolicy {
  readonly name: PolicyName
  grow(capacity: number): void
  insert(slot: number): void
  touch(slot: number): void
  remove(slot: number): void
  /** The slot to give up next, already dropped from the policy; -1 when it holds none. */
  evict(): number
  clear(): void
}

export type PolicyName = 'lru' | 'lfu'

export const POLICY_NAMES: readonly PolicyName[] = ['lru', 'lfu']

export const NO_SLOT = -1
