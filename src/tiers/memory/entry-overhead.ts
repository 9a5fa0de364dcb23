/**
 * Heap and off-heap bytes one warm entry costs beyond its encoded bytes and
 * its key's characters: its 8-byte header in a slab, the key string's
 * header, the key index, the slot columns (the arena's slab, offset and
 * stamp among them) and the policy's columns (each with the slack of its
 * doubling growth). Without it a tier of small values held several times
 * its `maxBytes`. Freed bytes waiting in slabs for compaction are not in it
 * (docs/sizing.md says how much they come to).
 *
 * Measured by `npx tsx bench/warm-entry-overhead.ts` (Node 20, x64): growth
 * of heapUsed + external after a full GC, over 100,000 entries held in steady
 * state, less the encoded bytes and key characters, per entry. lru, sieve,
 * arc and lfu come to 137-146 B, learned 160-161 B, w-tinylfu 190 B with
 * values of 100 B (with 1000 B values w-tinylfu's figure also holds the freed
 * bytes no compaction slice reclaimed, as none runs there); this is the
 * largest. The heap part is 42-47 B.
 */
export const WARM_ENTRY_OVERHEAD = 190
