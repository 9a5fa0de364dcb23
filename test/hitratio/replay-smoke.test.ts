/**
 * The CI form of the hit-ratio suite: the first 20,000 requests
 * of web07 at 300 entries through every policy of `POLICY_NAMES` and through
 * lru-cache. Every policy there has a reference here, a simple and literal
 * second implementation (lru, lfu and sieve in this file; arc, w-tinylfu and
 * learned in test/policies/models/), and must match its hit count exactly;
 * a policy added later without one must at least lie within [0, OPT].
 *
 * The trace is bench/traces/web07.trc.bin.gz, in the repository; without it
 * this file fails, on purpose.
 */
import { LRUCache } from 'lru-cache'
import { beforeAll, describe, expect, it } from 'vitest'
import { optHits } from '../../bench/hitratio/opt.js'
import { replayHotTier, replayLruCache } from '../../bench/hitratio/replay.js'
import { readSharedTrace, type TraceKeys } from '../../bench/hitratio/traces.js'
import { POLICY_NAMES } from '../../src/policies/index.js'
import { hashKey } from '../../src/policies/key-hash.js'
import { LeCaRModel } from '../policies/models/learned-model.js'
import { PaperArc } from '../policies/models/paper-arc.js'
import { WTinyLfuModel } from '../policies/models/w-tinylfu-model.js'

const REQUESTS = 20_000
const SIZE = 300

/** LRU in a Map: insertion order is recency order, the first key the oldest. */
function referenceLru(trace: TraceKeys, size: number): number {
  const cache = new Map<string, true>()
  let hits = 0
  for (const id of trace.ids) {
    const key = trace.keys[id]
    if (cache.delete(key)) hits++
    else if (cache.size === size) cache.delete(cache.keys().next().value as string)
    cache.set(key, true)
  }
  return hits
}

/**
 * LFU with the semantics of src/policies/lfu.ts inside the hot tier, done
 * the slow, obvious way:
 * - a new key gets count 1 and goes to the tail of list 1; a hit raises the
 *   count by one, saturating at 15, and moves the key to the tail of its new
 *   list (the same list at 15);
 * - the victim is the head (oldest) of the lowest non-empty list;
 * - every `agingPeriod` hits all counts are halved, list c being appended to
 *   list c/2 for c = 1 … 15 in ascending order;
 * - `agingPeriod` is max(1,024, 10 × the tier's maximum entries).
 */
function referenceLfu(trace: TraceKeys, size: number): number {
  const lists: string[][] = Array.from({ length: 16 }, () => [])
  const count = new Map<string, number>()
  const agingPeriod = Math.max(1024, 10 * size)
  let touches = 0
  let hits = 0
  for (const id of trace.ids) {
    const key = trace.keys[id]
    const c = count.get(key)
    if (c !== undefined) {
      hits++
      const list = lists[c]
      list.splice(list.indexOf(key), 1)
      const next = Math.min(15, c + 1)
      lists[next].push(key)
      count.set(key, next)
      if (++touches >= agingPeriod) {
        touches = 0
        for (let from = 1; from < 16; from++) {
          lists[from >> 1].push(...lists[from])
          lists[from] = []
        }
        for (const [k, n] of count) count.set(k, n >> 1)
      }
      continue
    }
    if (count.size === size) {
      const victim = (lists.find((list) => list.length > 0) as string[]).shift() as string
      count.delete(victim)
    }
    count.set(key, 1)
    lists[1].push(key)
  }
  return hits
}

/** lru-cache exactly as `bench/hitratio/replay.ts` runs it, but written out here. */
function lruCacheHits(trace: TraceKeys, size: number): number {
  const cache = new LRUCache<string, number>({ max: size })
  let hits = 0
  for (const id of trace.ids) {
    const key = trace.keys[id]
    if (cache.get(key) !== undefined) hits++
    else cache.set(key, 1)
  }
  return hits
}

/**
 * SIEVE (Zhang et al., NSDI '24, Algorithm 1) on keys: a queue with the
 * oldest first, a visited set, a hand that walks from the oldest toward the
 * newest, clearing visited marks, and evicts the first unvisited key.
 */
function referenceSieve(trace: TraceKeys, size: number): number {
  const queue: number[] = []
  const visited = new Set<number>()
  const cached = new Set<number>()
  let hand: number | null = null
  let hits = 0
  for (const key of trace.ids) {
    if (cached.has(key)) {
      hits++
      visited.add(key)
      continue
    }
    if (cached.size === size) {
      let at: number = hand === null ? 0 : queue.indexOf(hand)
      while (visited.has(queue[at])) {
        visited.delete(queue[at])
        at = (at + 1) % queue.length
      }
      const victim = queue[at]
      hand = queue[at + 1] ?? null
      queue.splice(at, 1)
      cached.delete(victim)
    }
    queue.push(key)
    cached.add(key)
  }
  return hits
}

/** ARC as printed in the paper (the model of test/policies/arc.test.ts), on the trace's keys. */
function referenceArc(trace: TraceKeys, size: number): number {
  const arc = new PaperArc(size)
  let hits = 0
  for (const key of trace.ids) {
    if (arc.t1.includes(key) || arc.t2.includes(key)) hits++
    arc.request(key)
  }
  return hits
}

/** A model of a policy that keeps history by key hash, on string keys: the calls the hot tier makes. */
interface KeyModel {
  grow(capacity: number): void
  miss(hash: number): void
  evict(incomingHash: number): string | undefined
  insert(key: string, hash: number): void
  touch(key: string): void
}

/**
 * A model driven as `replayHotTier` drives the policy through the hot tier:
 * a hit touches; a miss reports `miss(hash)`, then the set evicts once if
 * the tier is full, grows the slot table if every slot is taken (it starts
 * at 64 slots and doubles up to the size, and the policy sizes its sketch,
 * ghosts or aging period from it), and inserts.
 */
function replayModel(trace: TraceKeys, size: number, create: (capacity: number, maxEntries: number) => KeyModel): number {
  let capacity = Math.min(64, size)
  const model = create(capacity, size)
  const resident = new Set<string>()
  let hits = 0
  for (const id of trace.ids) {
    const key = trace.keys[id]
    if (resident.has(key)) {
      hits++
      model.touch(key)
      continue
    }
    const hash = hashKey(key)
    model.miss(hash)
    if (resident.size === size) resident.delete(model.evict(hash) as string)
    if (resident.size === capacity) model.grow((capacity = Math.min(2 * capacity, size)))
    model.insert(key, hash)
    resident.add(key)
  }
  return hits
}

/** W-TinyLFU with its defaults (adaptive window, climber), as test/policies/models/w-tinylfu-model.ts writes it out. */
function referenceWTinyLfu(trace: TraceKeys, size: number): number {
  return replayModel(trace, size, (capacity, maxEntries) => new WTinyLfuModel<string>(capacity, maxEntries))
}

/** LeCaR as the tier creates it (its LFU counts age every 10 × size touches), as test/policies/models/learned-model.ts writes it out. */
function referenceLearned(trace: TraceKeys, size: number): number {
  return replayModel(trace, size, (capacity, maxEntries) => new LeCaRModel<string>(capacity, maxEntries, { agingPeriod: Math.max(1024, 10 * maxEntries) }))
}

const REFERENCES: Partial<Record<string, (trace: TraceKeys, size: number) => number>> = {
  lru: referenceLru,
  lfu: referenceLfu,
  sieve: referenceSieve,
  arc: referenceArc,
  'w-tinylfu': referenceWTinyLfu,
  learned: referenceLearned,
}

describe(`hit-ratio smoke: the first ${REQUESTS.toLocaleString('en-US')} requests of web07 at ${SIZE} entries`, () => {
  let trace: TraceKeys
  let opt: number
  let lru: number

  beforeAll(async () => {
    trace = await readSharedTrace('web07.trc.bin.gz', REQUESTS)
    opt = optHits(trace.ids, trace.distinct, SIZE)
    lru = replayLruCache(trace, SIZE).hits
  })

  it('reads the slice, and lru-cache agrees with a Map-based LRU', () => {
    expect(trace.ids.length).toBe(REQUESTS)
    expect(lru).toBe(lruCacheHits(trace, SIZE))
    expect(lru).toBe(referenceLru(trace, SIZE))
    expect(lru).toBeGreaterThan(0)
    expect(opt).toBeGreaterThan(lru)
  })

  it.each([...POLICY_NAMES])('%s: its exact reference count when it has one, within [0, OPT] always', (policy) => {
    const { hits } = replayHotTier(trace, SIZE, policy)
    expect(hits).toBeGreaterThanOrEqual(0)
    expect(hits).toBeLessThanOrEqual(opt)
    const reference = REFERENCES[policy]
    if (reference !== undefined) expect(hits).toBe(reference(trace, SIZE))
  })

  it("'lru' gets exactly lru-cache's hit count", () => {
    if (!POLICY_NAMES.includes('lru')) return
    expect(replayHotTier(trace, SIZE, 'lru').hits).toBe(lru)
  })

  it('the reference LFU counts what the aging rules say on a hand-made trace', () => {
    // Size 2, keys a b: a is hit 3 times (count 4), then c evicts b (count 1, the lowest), then b evicts c.
    const keys = ['a', 'b', 'c']
    const hand: TraceKeys = { ids: Int32Array.from([0, 1, 0, 0, 0, 2, 1, 0]), keys, distinct: 3 }
    expect(referenceLfu(hand, 2)).toBe(4)
    if (POLICY_NAMES.includes('lfu')) expect(replayHotTier(hand, 2, 'lfu').hits).toBe(4)
  })
})
