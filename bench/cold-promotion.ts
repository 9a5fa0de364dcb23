/**
 * What a cold read's promotion should do with the hot entry it pushes out
 * when a lower tier already holds that entry's value: encode it for warm
 * (the code without kept bytes), skip warm (the disk holds it clean), or put the
 * bytes kept from its own promotion into warm (no encode). Random reads
 * through the public API, 64 in flight, keys uniform or skewed (Zipf 0.9),
 * every value on disk; each variant is a patched copy of src/, measured
 * interleaved in one process.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDefaultCodec } from '../src/codec/default-codec.js'
import { importPatched, type Patch } from './patched-src.js'
import { median } from './harness.js'

const KEYS = 20_000
const READS = 20_000
const IN_FLIGHT = 64
const ROUNDS = 7
const FILE = 'src/stack/memory-moves.ts'
const WARM_BRANCH = `    // It expired on its way down (and is not kept as a stale value).
    if (expiresAt !== 0 && expiresAt <= this.#scheduler.now() && !(keptUntil > this.#scheduler.now())) return this.#departures.expired(key)`
const KEEP = '    this.#kept?.keep(key, value, entry.stored)\n'
const TAKE = 'const kept = this.#kept !== undefined && this.#kept.size !== 0 ? this.#kept.take(key, value) : undefined'

// 'kept-bytes' is the code as it is; the others take it out.
const variants: Record<string, Patch[]> = {
  encode: [
    { file: FILE, from: KEEP, to: '' },
    { file: FILE, from: TAKE, to: 'const kept = undefined' },
  ],
  'skip-warm': [
    { file: FILE, from: KEEP, to: '' },
    { file: FILE, from: TAKE, to: 'const kept = undefined' },
    {
      file: FILE,
      from: WARM_BRANCH,
      to: `    if (below !== undefined && below.holds(key, this.#scheduler.now())) return this.#notifier.demoted(key, 'hot', below.name)\n${WARM_BRANCH}`,
    },
  ],
  'kept-bytes': [],
}

const record = (i: number) => ({ id: i, sku: `SKU-${i}`, name: `product ${i}`, tags: ['a', 'b', 'c'], text: 'lorem ipsum dolor sit amet '.repeat(30) })

function zipf(n: number, s: number, seed: number): () => number {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) >>> 0
    const u = (x / 2 ** 32) * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

const dir = mkdtempSync(join(tmpdir(), 'strata-promotion-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const inner = createDefaultCodec()
let encodes = 0
const codec = { ...inner, name: inner.name, encode: (value: unknown) => (encodes++, inner.encode(value)), decode: (b: Uint8Array) => inner.decode(b) }

const modules = Object.fromEntries(await Promise.all(Object.entries(variants).map(async ([name, patches]) => [name, await importPatched(patches)] as const)))
{
  const writer = modules.encode.createCache<ReturnType<typeof record>>({ hot: { maxEntries: 1000 }, cold: { dir, maxBytes: 1 << 30 } })
  for (let i = 0; i < KEYS; i += 1000) await writer.setMany(Array.from({ length: 1000 }, (_, j) => ({ key: `k${i + j}`, value: record(i + j) })))
  await writer.close()
}

const results: Record<string, number[]> = {}
const encodeCounts: Record<string, number> = {}
for (const workload of ['uniform', 'zipf']) {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, mod] of Object.entries(modules)) {
      const cache = mod.createCache<ReturnType<typeof record>>({
        hot: { maxEntries: 2000 },
        warm: { maxBytes: 8 << 20 },
        cold: { dir, maxBytes: 1 << 30 },
        codec,
      })
      await cache.ready
      const next =
        workload === 'zipf'
          ? zipf(KEYS, 0.9, round + 1)
          : (() => {
              let x = round + 7
              return () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % KEYS
            })()
      const keys = Array.from({ length: READS }, () => `k${next()}`)
      for (const key of keys.slice(0, 5000)) await cache.get(key) // warm-up: memory filled
      encodes = 0
      let i = 0
      const start = process.hrtime.bigint()
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (i < keys.length) await cache.get(keys[i++])
        }),
      )
      const ns = Number(process.hrtime.bigint() - start) / READS
      ;(results[`${workload} ${name}`] ??= []).push(ns)
      encodeCounts[`${workload} ${name}`] = encodes
      await cache.close()
    }
  }
}
for (const [row, values] of Object.entries(results)) {
  const base = median(results[`${row.split(' ')[0]} encode`])
  console.log(
    `${row.padEnd(22)} ${median(values).toFixed(0).padStart(6)} ns/read  ${(median(values) / base).toFixed(2)}x of encode  encodes/read ${(encodeCounts[row] / READS).toFixed(2)}`,
  )
}
