/**
 * The demo behind `npm start`: a realistic read-through workload.
 *
 * 200,000 requests for 50,000 product records, keys drawn from a Zipf
 * distribution (a few keys take most of the traffic), go through
 * `cache.getOrSet` with 64 requests in flight. A miss calls a slow source
 * (2-6 ms). A hot tier of 4,000 live objects sits over a 16 MiB warm tier of
 * encoded bytes. Everything is seeded, so two runs do the same work.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { build } from 'hdr-histogram-js'
import { createCache } from 'strata-cache'
import { makeRecord, prng, type ProductRecord } from '../bench/records.js'
import { progress } from './progress.js'
import { permutation, zipf } from './zipf.js'

const KEYS = 50_000
const REQUESTS = 200_000
const SKEW = 0.95
const IN_FLIGHT = 64
const SOURCE_LATENCY_MS = [2, 6] as const
const SEED = 42

const random = prng(SEED)
const rank = zipf(KEYS, SKEW, random)
const idOfRank = permutation(KEYS, random)
const latency = prng(SEED + 1)

const cache = createCache<ProductRecord>({
  // maxBytes as well, so the hot tier estimates (and reports) its size.
  hot: { maxEntries: 4_000, maxBytes: 32 << 20 },
  warm: { maxBytes: 16 << 20 },
  ttl: 10 * 60_000,
})

let sourceCalls = 0
/** The slow system of record: a database or a service a few ms away. */
async function fetchProduct(id: number, signal: AbortSignal): Promise<ProductRecord> {
  sourceCalls++
  const [low, high] = SOURCE_LATENCY_MS
  await sleep(low + latency() * (high - low), undefined, { signal })
  return makeRecord(id)
}

// Latency in ns (a hit takes about a µs); the JS build, so no WebAssembly is needed.
const histogram = build({ useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: 60e9 })
const bar = progress(REQUESTS)
const percent = (x: number) => `${(x * 100).toFixed(1)} %`

// How long the event loop was held up: the cache promises never to block it for long.
const LOOP_SAMPLE_MS = 10
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS })
loopDelay.enable()

let issued = 0
let done = 0
const started = performance.now()

async function client(): Promise<void> {
  while (issued < REQUESTS) {
    // Each request arrives in an event-loop turn of its own, as one off a socket would;
    // without this a run of hits would chain in microtasks and starve the timers.
    await nextTurn()
    if (issued >= REQUESTS) return
    issued++
    const id = idOfRank[rank()]
    const t0 = performance.now()
    const record = await cache.getOrSet(`product:${id}`, ({ signal }) => fetchProduct(id, signal))
    histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1e6)))
    if (record.id !== id) throw new Error(`product:${id} came back as ${record.id}`)
    if (++done % 2_000 === 0 || done === REQUESTS) {
      const seconds = (performance.now() - started) / 1000
      bar.update(done, { hitRatio: percent(cache.stats().hitRatio), rate: String(Math.round(done / seconds)) })
    }
  }
}

await Promise.all(Array.from({ length: IN_FLIGHT }, client))
bar.stop()
loopDelay.disable()
const seconds = (performance.now() - started) / 1000
const stats = cache.stats()
await cache.close()

const reads = stats.hits + stats.misses
const ms = (ns: number) => (ns < 1e6 ? `${(ns / 1e3).toFixed(1)} µs` : `${(ns / 1e6).toFixed(2)} ms`)
const late = (ns: number) => Math.max(0, ns - LOOP_SAMPLE_MS * 1e6)
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
const rows: [string, string][] = [
  ['requests', `${REQUESTS} for ${KEYS} keys, Zipf skew ${SKEW}, ${IN_FLIGHT} in flight, seed ${SEED}`],
  ['wall time', `${seconds.toFixed(1)} s (${Math.round(REQUESTS / seconds)} req/s)`],
  ['hit ratio', `${percent(stats.hitRatio)} overall`],
  ['  hot', `${percent(stats.tiers.hot.hits / reads)} (${stats.tiers.hot.hits} hits)`],
  ['  warm', `${percent(stats.tiers.warm.hits / reads)} (${stats.tiers.warm.hits} hits)`],
  ['  miss', `${percent(stats.misses / reads)} (${stats.misses} misses, ${sourceCalls} source calls)`],
  ['getOrSet latency', `p50 ${ms(histogram.getValueAtPercentile(50))}, p99 ${ms(histogram.getValueAtPercentile(99))}, max ${ms(histogram.maxValue)}`],
  // The histogram holds whole sampling intervals: what lies beyond one is delay.
  ['event loop delay', `p99 ${ms(late(loopDelay.percentile(99)))}, max ${ms(late(loopDelay.max))} (GC included)`],
  ['hot tier', `${stats.tiers.hot.entries} entries, ~${mib(stats.tiers.hot.bytes)}`],
  ['warm tier', `${stats.tiers.warm.entries} entries, ${mib(stats.tiers.warm.bytes)} encoded`],
  ['moves', `${stats.promotions} promotions, ${stats.demotions} demotions, ${stats.evictions} evictions`],
]
console.log('\nstrata-cache demo')
for (const [name, value] of rows) console.log(`  ${name.padEnd(18)}${value}`)
