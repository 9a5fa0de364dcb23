/**
 * Heap used by 100,000 records of ~1 KiB: in strata-cache's warm tier
 * (encoded, in Buffers off the V8 heap) vs as live objects in lru-cache.
 *
 * Each side is measured in a child process of its own (node --expose-gc),
 * alternating three times, so neither inherits the other's garbage or
 * fragmentation: full GC, heapUsed, fill the cache, full GC, heapUsed. The
 * cache, its keys and (for lru-cache) the values are all made inside that
 * window; strata-cache's values are garbage once encoded. Off-heap bytes
 * (external) are reported too, so moving bytes off the heap is not mistaken
 * for making them disappear.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Packr } from 'msgpackr'
import { LRUCache } from 'lru-cache'
import { createCache, createDefaultCodec } from '../src/index.js'
import { median, report } from './harness.js'
import { makeRecord, type ProductRecord } from './records.js'

const ENTRIES = 100_000
const SIDE_MARK = '@@heap '

interface Measurement {
  heap: number
  external: number
  detail: string
}

function fullGc(): void {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error('run with node --expose-gc')
  // Twice: the first pass can leave work (weak callbacks, finalizers) for the second.
  gc()
  gc()
}

async function measure(side: string): Promise<Measurement> {
  fullGc()
  const before = process.memoryUsage()
  let detail: string
  let keep: unknown
  if (side === 'strata') {
    const cache = createCache<ProductRecord>({ hot: { maxEntries: 1 }, warm: { maxBytes: 512 << 20 } })
    for (let i = 0; i < ENTRIES; i++) await cache.set(`item:${i}`, makeRecord(i))
    const { tiers } = cache.stats()
    detail = `hot ${tiers.hot.entries} + warm ${tiers.warm.entries} entries, warm ${tiers.warm.bytes} B charged`
    keep = cache
  } else {
    const lru = new LRUCache<string, ProductRecord>({ max: ENTRIES })
    for (let i = 0; i < ENTRIES; i++) lru.set(`item:${i}`, makeRecord(i))
    detail = `${lru.size} entries`
    keep = lru
  }
  fullGc()
  const after = process.memoryUsage()
  if (keep === undefined) throw new Error('unreachable: keeps the cache alive until after the measurement')
  return { heap: after.heapUsed - before.heapUsed, external: after.external - before.external, detail }
}

function runSide(side: string): Measurement {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--side', side], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  const line = child.stdout.split('\n').find((l) => l.startsWith(SIDE_MARK))
  if (child.status !== 0 || line === undefined) throw new Error(`heap child '${side}' failed: ${child.stderr}`)
  return JSON.parse(line.slice(SIDE_MARK.length)) as Measurement
}

/** Average sizes of the records as JSON, as msgpack and as the warm tier stores them. */
function compressibility(): string {
  const packr = new Packr({ structuredClone: true })
  const codec = createDefaultCodec()
  let json = 0
  let packed = 0
  let stored = 0
  const sample = 2000
  for (let i = 0; i < sample; i++) {
    const record = makeRecord(i)
    json += JSON.stringify(record).length
    packed += packr.pack(record).length
    stored += codec.encode(record).length
  }
  const [j, p, s] = [json, packed, stored].map((n) => Math.round(n / sample))
  return `records average ${j} B as JSON, ${p} B as msgpack, ${s} B stored (LZ4 saves ${Math.round((1 - s / p) * 100)} %)`
}

const sideAt = process.argv.indexOf('--side')
if (sideAt !== -1) {
  const result = await measure(process.argv[sideAt + 1])
  process.stdout.write(`${SIDE_MARK + JSON.stringify(result)}\n`)
} else {
  const runs = 3
  const strata: Measurement[] = []
  const lru: Measurement[] = []
  for (let i = 0; i < runs; i++) {
    strata.push(runSide('strata'))
    lru.push(runSide('lru'))
  }
  const perEntry = (ms: Measurement[], field: 'heap' | 'external') => median(ms.map((m) => m[field])) / ENTRIES
  const [sHeap, lHeap, sExt, lExt] = [perEntry(strata, 'heap'), perEntry(lru, 'heap'), perEntry(strata, 'external'), perEntry(lru, 'external')]
  const notes = [`${ENTRIES} entries, medians of ${runs} child processes per side; strata: ${strata[0].detail}; lru-cache: ${lru[0].detail}`, compressibility()]
  report({
    id: 'warm-heap',
    title: 'heap: 100k × ~1 KiB in warm',
    strata: sHeap,
    baseline: lHeap,
    baselineName: 'lru-cache',
    unit: 'B/entry',
    ratio: sHeap / lHeap,
    target: 0.3,
    notes,
  })
  report({
    id: 'warm-heap-total',
    title: 'heap + off-heap (external)',
    strata: sHeap + sExt,
    baseline: lHeap + lExt,
    baselineName: 'lru-cache',
    unit: 'B/entry',
    ratio: (sHeap + sExt) / (lHeap + lExt),
    notes: [`information only: strata external ${Math.round(sExt)} B/entry, lru-cache external ${Math.round(lExt)} B/entry`],
  })
}
