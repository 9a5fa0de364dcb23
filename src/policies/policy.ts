/**
 * An eviction policy orders the slots of one tier. The tier owns keys and
 * values; the policy sees only slot numbers, so that its bookkeeping can live
 * in typed arrays and a hit allocates nothing.
 *
 * Call order: `grow` before a slot at or past the old capacity is used;
 * `insert` once per stored entry, then any number of `touch`; the entry leaves
 * through exactly one of `remove` (deleted, expired) or `evict` (capacity).
 * `insert` never refuses: a key just written is readable at once, and a
 * policy with admission decides only which entry `evict` gives up.
 */
export interface EvictionPolicy {
  readonly name: PolicyName
  /**
   * Whether `insert` and `miss` need the key's hash (a frequency sketch, ghost
   * lists); while false the tier never hashes a key and passes 0.
   */
  readonly usesKeyHashes: boolean
  grow(capacity: number): void
  insert(slot: number, keyHash: number): void
  touch(slot: number): void
  remove(slot: number): void
  /**
   * The slot to give up next, already dropped from the policy; -1 when it
   * holds none. `incomingKeyHash` is the key about to be inserted (0 when
   * none is, or the policy does not use hashes): ARC's choice depends on it.
   */
  evict(incomingKeyHash: number): number
  /** A read of a key the tier does not hold: history for policies that learn from misses. */
  miss(keyHash: number): void
}

export type PolicyName = 'lru' | 'lfu' | 'w-tinylfu' | 'arc' | 'sieve' | 'learned'

export const POLICY_NAMES: readonly PolicyName[] = ['lru', 'lfu', 'w-tinylfu', 'arc', 'sieve', 'learned']

export const NO_SLOT = -1
