/**
 * At most this many slots are reserved up front: a tier whose maximum is
 * larger reserves this much, then grows by doubling, copying, as a tier
 * bounded by bytes does (a maximum of a billion must not take gigabytes at
 * creation).
 */
export const MAX_RESERVED_SLOTS = 1 << 21

/**
 * Slots a tier's columns are reserved for at creation: its finite maximum,
 * up to `MAX_RESERVED_SLOTS`, so that growing to it copies nothing; without
 * a maximum, the capacity it starts with.
 */
export function reservedSlots(capacity: number, maxEntries: number): number {
  return Number.isFinite(maxEntries) ? Math.max(capacity, Math.min(maxEntries, MAX_RESERVED_SLOTS)) : capacity
}
