/**
 * Heap and off-heap bytes one warm entry costs beyond its encoded bytes and
 * its key's characters: the Buffer and its ArrayBuffer, the key string's
 * header, the Map entry, the slot columns and the policy's columns (each
 * with the slack of its doubling growth). Without it a tier of small values
 * held several times its `maxBytes`.
 *
 * Measured by `npx tsx bench/warm-entry-overhead.ts` (Node 20, x64): growth
 * of heapUsed + external after a full GC, over 100,000 entries held in steady
 * state, less the encoded bytes and key characters, per entry. lru, sieve,
 * arc and lfu come to 335-363 B, learned 357-379 B, w-tinylfu 372-388 B
 * (values of 10, 100 and 1000 B); this is the largest. RSS shows some 50 B
 * more per Buffer of native bookkeeping that V8 does not report; it is left
 * out, as it cannot be measured alone.
 */
export const WARM_ENTRY_OVERHEAD = 388
