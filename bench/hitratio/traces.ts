/**
 * The traces of the hit-ratio suite: two recorded ones in `bench/traces`
 * (with their licence and attribution) and synthetic ones from a fixed seed.
 *
 * Every trace is held the same way: the requests as dense key ids (0 … distinct-1,
 * numbered in order of first use) and one string per id, built once, so that
 * a replay looks up an existing string and never builds one.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { gunzip } from 'node:zlib'

/** The requests of a trace, ready to replay. */
export interface TraceKeys {
  /** One dense key id per request. */
  ids: Int32Array
  /** `keys[id]`: the string key of an id, for caches keyed by string. */
  keys: readonly string[]
  /** Number of distinct ids: every id is below it. */
  distinct: number
}

export interface Trace extends TraceKeys {
  name: string
  description: string
  /** Cache sizes (entries) to replay it at. */
  sizes: number[]
}

/** `bench/traces`, inside the repository, so that a lone clone has them. */
export const SHARED_TRACES_DIR = fileURLToPath(new URL('../traces/', import.meta.url))

/** Numbers the raw keys densely in order of first use; the string of an id is its raw key in decimal. */
function densify(raw: Int32Array): TraceKeys {
  const idOf = new Map<number, number>()
  const keys: string[] = []
  const ids = new Int32Array(raw.length)
  for (let i = 0; i < raw.length; i++) {
    const key = raw[i]
    let id = idOf.get(key)
    if (id === undefined) {
      id = keys.length
      idOf.set(key, id)
      keys.push(String(key))
    }
    ids[i] = id
  }
  return { ids, keys, distinct: keys.length }
}

/** The first `limit` requests of a trace (keys numbered as in the whole trace, so some ids may be absent). */
export function slice<T extends TraceKeys>(trace: T, limit: number): T {
  return limit >= trace.ids.length ? trace : { ...trace, ids: trace.ids.subarray(0, limit) }
}

const gunzipAsync = promisify(gunzip)

/** Reads a gzipped trace of big-endian int32 keys; at most `limit` requests. */
export async function readSharedTrace(file: string, limit = Infinity): Promise<TraceKeys> {
  const path = SHARED_TRACES_DIR + file
  if (!existsSync(path)) throw new Error(`trace not found: ${path} (the recorded traces live in bench/traces)`)
  const buffer = await gunzipAsync(await readFile(path))
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  const length = Math.min(buffer.byteLength >>> 2, limit)
  const raw = new Int32Array(length)
  for (let i = 0; i < length; i++) raw[i] = view.getInt32(i * 4, false)
  return densify(raw)
}

export const SHARED_TRACES = [
  {
    name: 'web07',
    file: 'web07.trc.bin.gz',
    description: "a web application's access log (cache2k trace-mt-20130703)",
    sizes: [300, 1200, 3000],
  },
  {
    name: 'orm-night',
    file: 'orm-night.trc.bin.gz',
    description: 'the entity cache of an ORM-backed web application at night (cache2k trace-mt-db-20160419-night)',
    sizes: [625, 1250, 2500, 5000, 10000],
  },
] as const

// ---------------------------------------------------------------------------
// Synthetic traces

/** xorshift128 (Marsaglia), seeded through splitmix32: uniform doubles in [0, 1). */
export function xorshift128(seed: number): () => number {
  let s = seed >>> 0
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
  let x = splitmix() | 1
  let y = splitmix()
  let z = splitmix()
  let w = splitmix()
  return () => {
    const t = x ^ (x << 11)
    x = y
    y = z
    z = w
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0
    return w / 4294967296
  }
}

/** Ranks 0 … n-1 drawn with P(rank r) ∝ 1 / (r + 1)^skew, by inversion of the exact CDF. */
export function zipfSampler(n: number, skew: number, random: () => number): () => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let r = 0; r < n; r++) {
    total += 1 / (r + 1) ** skew
    cdf[r] = total
  }
  return () => {
    const u = random() * total
    let low = 0
    let high = n - 1
    while (low < high) {
      const mid = (low + high) >>> 1
      if (cdf[mid] > u) high = mid
      else low = mid + 1
    }
    return low
  }
}

/** A bijection on 32 bits (odd multiplier), so that rank order is not key order. */
const scramble = (n: number): number => Math.imul(n, 0x9e3779b1)

/** Zipf over `keys` keys. */
function zipfTrace(keys: number, skew: number, requests: number, seed: number): Int32Array {
  const next = zipfSampler(keys, skew, xorshift128(seed))
  const raw = new Int32Array(requests)
  for (let i = 0; i < requests; i++) raw[i] = scramble(next())
  return raw
}

/** 0, 1, …, length-1, 0, 1, …: LRU's worst case when `length` is just above the cache. */
function loopTrace(length: number, requests: number): Int32Array {
  const raw = new Int32Array(requests)
  for (let i = 0; i < requests; i++) raw[i] = scramble(i % length)
  return raw
}

/**
 * Zipf over `keys` keys, interrupted after every `between` requests by a scan
 * of `scan` keys that are each read once and never again.
 */
function zipfWithScans(keys: number, skew: number, between: number, scan: number, requests: number, seed: number): Int32Array {
  const next = zipfSampler(keys, skew, xorshift128(seed))
  const raw = new Int32Array(requests)
  let fresh = keys
  for (let i = 0; i < requests; ) {
    for (let j = 0; j < between && i < requests; j++) raw[i++] = scramble(next())
    for (let j = 0; j < scan && i < requests; j++) raw[i++] = scramble(fresh++)
  }
  return raw
}

/** Zipf over a working set of `set` keys that is replaced by a disjoint one every `phase` requests. */
function shiftingTrace(set: number, skew: number, phase: number, requests: number, seed: number): Int32Array {
  const next = zipfSampler(set, skew, xorshift128(seed))
  const raw = new Int32Array(requests)
  for (let i = 0; i < requests; i++) raw[i] = scramble(Math.floor(i / phase) * set + next())
  return raw
}

interface SyntheticSpec {
  name: string
  description: string
  sizes: number[]
  requests: number
  make: (requests: number) => Int32Array
}

const SEED = 20_260_517

const SYNTHETIC_TRACES: readonly SyntheticSpec[] = [
  {
    name: 'zipf-0.9',
    description: 'Zipf, skew 0.9, over 1,000,000 keys; 2,000,000 requests; caches of 0.1 % and 1 % of the keys',
    sizes: [1_000, 10_000],
    requests: 2_000_000,
    make: (requests) => zipfTrace(1_000_000, 0.9, requests, SEED),
  },
  {
    name: 'zipf-0.99',
    description: 'Zipf, skew 0.99, over 1,000,000 keys; 2,000,000 requests; caches of 0.1 % and 1 % of the keys',
    sizes: [1_000, 10_000],
    requests: 2_000_000,
    make: (requests) => zipfTrace(1_000_000, 0.99, requests, SEED + 1),
  },
  {
    name: 'loop',
    description: 'a loop over 1,100 keys, 500 times (550,000 requests), cache of 1,000: 10 % larger than the cache, LRU never hits',
    sizes: [1_000],
    requests: 550_000,
    make: (requests) => loopTrace(1_100, requests),
  },
  {
    name: 'zipf-scans',
    description: 'Zipf 0.9 over 100,000 keys, every 50,000 requests interrupted by a scan of 20,000 keys read once; 1,400,000 requests (20 scans)',
    sizes: [1_000, 5_000],
    requests: 1_400_000,
    make: (requests) => zipfWithScans(100_000, 0.9, 50_000, 20_000, requests, SEED + 2),
  },
  {
    name: 'shifting',
    description: 'Zipf 0.9 over a working set of 10,000 keys replaced by a disjoint one every 100,000 requests; 2,000,000 requests (20 sets)',
    sizes: [1_000, 5_000],
    requests: 2_000_000,
    make: (requests) => shiftingTrace(10_000, 0.9, 100_000, requests, SEED + 3),
  },
]

/** Every trace of the suite, each cut to `limit` requests (for `--quick`), those named in `only` if given. */
export async function loadTraces(options: { limit?: number; only?: readonly string[] } = {}): Promise<Trace[]> {
  const limit = options.limit ?? Infinity
  const wanted = (name: string) => options.only === undefined || options.only.includes(name)
  const traces: Trace[] = []
  for (const shared of SHARED_TRACES) {
    if (!wanted(shared.name)) continue
    const keys = await readSharedTrace(shared.file, limit)
    traces.push({ name: shared.name, description: shared.description, sizes: [...shared.sizes], ...keys })
  }
  for (const synthetic of SYNTHETIC_TRACES) {
    if (!wanted(synthetic.name)) continue
    const keys = densify(synthetic.make(Math.min(synthetic.requests, limit)))
    traces.push({ name: synthetic.name, description: synthetic.description, sizes: synthetic.sizes, ...keys })
  }
  return traces
}

export const TRACE_NAMES = [...SHARED_TRACES.map((t) => t.name), ...SYNTHETIC_TRACES.map((t) => t.name)]
