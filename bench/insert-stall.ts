/**
 * Insert stalls: the event loop's largest delay while a million entries go
 * into an empty cache, `await cache.set` (W-TinyLFU, hot: { maxEntries: 1M },
 * warm off) against `await lru.set` into an lru-cache of max 1M. Both insert
 * in chunks that yield to the loop (setImmediate every CHUNK sets), so a
 * delay is one chunk plus whatever grew or collected inside it. Rounds
 * alternate which side goes first; each side starts from a collected heap.
 * Reported: the median over rounds of the largest delay
 * (monitorEventLoopDelay, 1 ms resolution), with the largest chunk timed
 * directly and the GC's part (the longest pause and the total, from a 'gc'
 * PerformanceObserver) as notes.
 */
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { LRUCache } from 'lru-cache'
import { createCache } from '../src/index.js'
import { makeKeys, median, report, roundsFromArgs } from './harness.js'
import { makeRecord, type ProductRecord } from './records.js'

const ENTRIES = 1_000_000
const CHUNK = 1_000
const VALUE_MASK = 1023

const keys = makeKeys(ENTRIES)
const values = Array.from({ length: VALUE_MASK + 1 }, (_, i) => makeRecord(i))
const gc = (globalThis as { gc?: () => void }).gc

type Setter = (key: string, value: ProductRecord) => unknown

interface Run {
  /** Largest event-loop delay, ms. */
  delay: number
  /** Longest chunk, timed around its synchronous part, ms. */
  chunk: number
  gcMax: number
  gcTotal: number
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

async function insertAll(makeSetter: () => Setter): Promise<Run> {
  gc?.()
  await sleep(20)
  const set = makeSetter()
  const pauses: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push(entry.duration)
  })
  observer.observe({ entryTypes: ['gc'] })
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  // The histogram's timer starts with the loop's next turn.
  await sleep(3)
  let chunk = 0
  for (let start = 0; start < ENTRIES; start += CHUNK) {
    const began = performance.now()
    for (let i = start; i < start + CHUNK; i++) await set(keys[i], values[i & VALUE_MASK])
    chunk = Math.max(chunk, performance.now() - began)
    await yieldToLoop()
  }
  // Let the timer fire once after the last chunk, and the observer deliver.
  await sleep(3)
  histogram.disable()
  await sleep(1)
  observer.disconnect()
  return {
    delay: histogram.max / 1e6,
    chunk,
    gcMax: Math.max(0, ...pauses),
    gcTotal: pauses.reduce((a, b) => a + b, 0),
  }
}

const strata = (): Setter => {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } })
  return (key, value) => cache.set(key, value)
}
const lru = (): Setter => {
  const cache = new LRUCache<string, ProductRecord>({ max: ENTRIES })
  return (key, value) => cache.set(key, value)
}

const rounds = roundsFromArgs(7)
const as: Run[] = []
const bs: Run[] = []
// One untimed pass each to warm the JIT.
await insertAll(strata)
await insertAll(lru)
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    as.push(await insertAll(strata))
    bs.push(await insertAll(lru))
  } else {
    bs.push(await insertAll(lru))
    as.push(await insertAll(strata))
  }
}
const pick = (runs: Run[], field: keyof Run) => median(runs.map((r) => r[field]))
const ratios = as.map((a, i) => a.delay / bs[i].delay).sort((x, y) => x - y)
const fmt = (n: number) => n.toFixed(1)
report({
  id: 'insert-stall',
  title: 'largest loop delay inserting 1M',
  strata: pick(as, 'delay'),
  baseline: pick(bs, 'delay'),
  baselineName: 'lru-cache',
  unit: 'ms',
  ratio: pick(as, 'delay') / pick(bs, 'delay'),
  spread: [ratios[Math.floor(ratios.length / 4)], ratios[Math.floor((3 * ratios.length) / 4)]],
  target: 1.0,
  notes: [
    `${ENTRIES} await set into an empty cache (W-TinyLFU, hot maxEntries ${ENTRIES}, warm off) vs await lru.set (max ${ENTRIES}), setImmediate every ${CHUNK} sets, ${rounds} rounds`,
    `largest chunk: ${fmt(pick(as, 'chunk'))} vs ${fmt(pick(bs, 'chunk'))} ms; longest GC pause ${fmt(pick(as, 'gcMax'))} vs ${fmt(pick(bs, 'gcMax'))} ms; GC total ${fmt(pick(as, 'gcTotal'))} vs ${fmt(pick(bs, 'gcTotal'))} ms (medians)`,
    `per round (strata/lru delay ms): ${as.map((a, i) => `${fmt(a.delay)}/${fmt(bs[i].delay)}`).join(' ')}`,
  ],
})
