/**
 * Bélády's OPT: the most hits any cache of `capacity` entries can get on a
 * trace known in advance. On a miss with the cache full, it gives up the
 * entry whose next use is farthest away (never used again counts as
 * farthest).
 *
 * Two variants:
 * - demand (the default): every missed key is admitted, as every policy of
 *   strata-cache and lru-cache does (a key just written is readable at
 *   once). This is the bound the suite compares against.
 * - bypass: a missed key may be left out, when its own next use is farther
 *   than every cached entry's. An upper bound for caches that may refuse
 *   admission outright; never below the demand figure.
 *
 * One backward pass computes next[i], the next request of the same key after
 * request i; then an indexed max-heap of the cached keys by next use gives
 * O(n log capacity) in all.
 */

/** `next[i]`: the index of the next request for the key of request i, or NEVER. */
export const NEVER = 0x7fffffff

export function nextUses(ids: Int32Array, distinct: number): Int32Array {
  const next = new Int32Array(ids.length)
  const last = new Int32Array(distinct).fill(NEVER)
  for (let i = ids.length - 1; i >= 0; i--) {
    const id = ids[i]
    next[i] = last[id]
    last[id] = i
  }
  return next
}

export interface OptOptions {
  /** Allow leaving a missed key out of the cache (see above); false by default. */
  bypass?: boolean
  /** `nextUses(ids, distinct)`, when already computed for this trace. */
  next?: Int32Array
}

/** The hit count of Bélády's OPT on `ids` (dense ids below `distinct`) with a cache of `capacity` entries. */
export function optHits(ids: Int32Array, distinct: number, capacity: number, options: OptOptions = {}): number {
  if (capacity <= 0) return 0
  const next = options.next ?? nextUses(ids, distinct)
  const bypass = options.bypass ?? false
  // heapKey[h] is a cached id, heapNext[h] its next use; pos[id] its place in the heap or -1.
  const heapKey = new Int32Array(capacity)
  const heapNext = new Int32Array(capacity)
  const pos = new Int32Array(distinct).fill(-1)
  let size = 0
  let hits = 0

  const place = (h: number, id: number, nextUse: number): void => {
    heapKey[h] = id
    heapNext[h] = nextUse
    pos[id] = h
  }
  const siftUp = (h: number, id: number, nextUse: number): void => {
    while (h > 0) {
      const parent = (h - 1) >> 1
      if (heapNext[parent] >= nextUse) break
      place(h, heapKey[parent], heapNext[parent])
      h = parent
    }
    place(h, id, nextUse)
  }
  const siftDown = (h: number, id: number, nextUse: number): void => {
    for (;;) {
      let child = 2 * h + 1
      if (child >= size) break
      if (child + 1 < size && heapNext[child + 1] > heapNext[child]) child++
      if (heapNext[child] <= nextUse) break
      place(h, heapKey[child], heapNext[child])
      h = child
    }
    place(h, id, nextUse)
  }

  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    const nextUse = next[i]
    const h = pos[id]
    if (h !== -1) {
      // A hit: this entry's next use was i, now it is later; it can only rise.
      hits++
      siftUp(h, id, nextUse)
    } else if (size < capacity) {
      siftUp(size++, id, nextUse)
    } else {
      if (bypass && nextUse >= heapNext[0]) continue
      pos[heapKey[0]] = -1
      siftDown(0, id, nextUse)
    }
  }
  return hits
}
