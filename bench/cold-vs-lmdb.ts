/**
 * The cold tier's storage engine (`ColdStore`) against `lmdb` (a
 * memory-mapped B-tree), in the same process, on the same 100,000 values,
 * each store in a temporary directory of its own that is removed afterwards.
 *
 * Values are bytes on both sides: each record from `records.ts` as UTF-8 JSON
 * (~1 KiB), one Buffer per key shared by both sides; lmdb is opened with
 * `encoding: 'binary'`, so both store and return exactly those bytes (lmdb's
 * `get` returns a copy, as ColdStore's does). Keys are the same strings.
 *
 *   1. writes of 100,000 values, durable at the end of the run and not
 *   2. random reads, page cache warm, 1 and 64 in flight
 *   3. getMany of 100 keys
 *   4. the event loop's largest delay while 64 requests read
 *   5. disk bytes for the cache's encoding (msgpack + LZ4) vs lmdb's msgpack
 *
 * `--trace` prints each phase's wall time on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { readdir, rm, stat, mkdir } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { createDefaultCodec } from '../src/index.js'
import { ColdStore } from '../src/tiers/cold/index.js'
import { accessOrder, compare, compareMeasured, consume, makeKeys, median, report, roundsFromArgs, readBatch, type Reader } from './harness.js'
import { makeRecord, prng } from './records.js'

const ENTRIES = 100_000
const WRITE_BATCH = 1_000
const GET_MANY = 100
const IN_FLIGHT = 64
const ORDER_MASK = (1 << 17) - 1
const LOOP_RUN_MS = 1_000

const trace = process.argv.includes('--trace')
const started = performance.now()
const phase = (what: string): void => {
  if (trace) process.stderr.write(`  [${((performance.now() - started) / 1000).toFixed(1)} s] ${what}\n`)
}

// ---------------------------------------------------------------- data, dirs

const keys = makeKeys(ENTRIES)
// Only the bytes stay alive: 100,000 record objects would add ~150 MB of heap
// that neither store needs and that every major GC (in either side's rounds) marks.
const values = keys.map((_, i) => Buffer.from(JSON.stringify(makeRecord(i)), 'utf8'))
const valueBytes = values.reduce((n, v) => n + v.length, 0)
const order = accessOrder(ENTRIES, ORDER_MASK + 1, prng(7))

const root = mkdtempSync(join(os.tmpdir(), 'strata-cold-vs-lmdb-'))
let removed = false
const removeRoot = (): void => {
  if (!removed) rmSync(root, { recursive: true, force: true })
  removed = true
}
process.on('exit', removeRoot)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    removeRoot()
    process.exit(130)
  })
}

let dirs = 0
async function freshDir(side: string): Promise<string> {
  const dir = join(root, `${side}-${dirs++}`)
  await mkdir(dir)
  return dir
}

/** Apparent and allocated bytes of every file in a directory (both stores keep flat directories). */
async function diskUsage(dir: string): Promise<{ size: number; allocated: number; files: string[] }> {
  let size = 0
  let allocated = 0
  const files: string[] = []
  for (const name of await readdir(dir)) {
    const s = await stat(join(dir, name))
    if (!s.isFile()) continue
    size += s.size
    allocated += s.blocks * 512
    files.push(name)
  }
  return { size, allocated, files }
}

const openCold = (dir: string, fsync: 'always' | 'interval' | 'never'): Promise<ColdStore> =>
  ColdStore.open({
    dir,
    fsync,
    now: Date.now,
    onError: (e) => {
      throw e
    },
  })

const nsPerOp = (start: bigint, ops: number): number => Number(process.hrtime.bigint() - start) / ops

// -------------------------------------------------------------------- writes

type ColdWriteMode = 'batches' | 'concurrent'

/** Writes all values into a new store; times the writes (and the final sync when `durable`), not open/close. */
async function coldWrites(mode: ColdWriteMode, fsync: 'interval' | 'never', durable: boolean): Promise<number> {
  const dir = await freshDir('cold-w')
  const store = await openCold(dir, fsync)
  const start = process.hrtime.bigint()
  if (mode === 'batches') {
    for (let at = 0; at < ENTRIES; at += WRITE_BATCH) {
      const batch = []
      for (let i = at; i < at + WRITE_BATCH; i++) batch.push({ key: keys[i], value: values[i], expiresAt: 0 })
      await store.putMany(batch)
    }
  } else {
    const puts: Promise<void>[] = new Array(ENTRIES)
    for (let i = 0; i < ENTRIES; i++) puts[i] = store.putMany([{ key: keys[i], value: values[i], expiresAt: 0 }])
    await Promise.all(puts)
  }
  if (durable) await store.sync()
  const ns = nsPerOp(start, ENTRIES)
  if (store.stats().entries !== ENTRIES) throw new Error(`cold store holds ${store.stats().entries} entries`)
  await store.close()
  await rm(dir, { recursive: true })
  return ns
}

/** lmdb's async put for every value, all promises awaited (lmdb batches them into transactions). */
async function lmdbWrites(noSync: boolean): Promise<number> {
  const dir = await freshDir('lmdb-w')
  const db = openLmdb({ path: dir, encoding: 'binary', noSync })
  const start = process.hrtime.bigint()
  const puts: Promise<boolean>[] = new Array(ENTRIES)
  for (let i = 0; i < ENTRIES; i++) puts[i] = db.put(keys[i], values[i])
  await Promise.all(puts)
  // With the default overlappingSync, put promises resolve at commit; `flushed` when the last commit is on disk.
  if (!noSync) await db.flushed
  const ns = nsPerOp(start, ENTRIES)
  const { entryCount } = db.getStats() as { entryCount: number }
  if (entryCount !== ENTRIES) throw new Error(`lmdb holds ${entryCount} entries`)
  await db.close()
  await rm(dir, { recursive: true })
  return ns
}

const writeRounds = roundsFromArgs(7)
const writeRows: { id: string; title: string; a: () => Promise<number>; b: () => Promise<number>; baselineName: string; note: string }[] = [
  {
    id: 'cold-write-durable',
    title: 'cold: 100k writes, durable at end (putMany ×1000)',
    a: () => coldWrites('batches', 'interval', true),
    b: () => lmdbWrites(false),
    baselineName: 'lmdb put, default sync',
    note:
      `durable at the end on both sides: ColdStore fsync 'interval' (it owns no timer, so inside the run only the final sync() fsyncs, data then directory), ` +
      `${ENTRIES / WRITE_BATCH} putMany calls of ${WRITE_BATCH} awaited one after another, then sync(); lmdb default options (overlappingSync: each commit is flushed, ` +
      `put promises resolve at commit), ${ENTRIES} put() promises awaited, then db.flushed`,
  },
  {
    id: 'cold-write-durable-1',
    title: 'cold: 100k writes, durable at end (putMany([one]) ×100k)',
    a: () => coldWrites('concurrent', 'interval', true),
    b: () => lmdbWrites(false),
    baselineName: 'lmdb put, default sync',
    note: `as above, but ${ENTRIES} putMany([one]) calls issued at once and group-committed by the writer (≤ 4 MiB a batch), all awaited, then sync(): the same call pattern as lmdb's put`,
  },
  {
    id: 'cold-write-nosync',
    title: 'cold: 100k writes, no fsync (putMany ×1000)',
    a: () => coldWrites('batches', 'never', false),
    b: () => lmdbWrites(true),
    baselineName: 'lmdb put, noSync',
    note: `no fsync on either side (data reaches the page cache only): ColdStore fsync 'never' and no sync(), lmdb noSync: true; ColdStore as in the first row`,
  },
]

for (const row of writeRows) {
  phase(`writes: ${row.id}`)
  const r = await compareMeasured(row.a, row.b, { rounds: writeRounds, warmup: 1 })
  report({
    id: row.id,
    title: row.title,
    strata: r.a,
    baseline: r.b,
    baselineName: row.baselineName,
    unit: 'ns/op',
    ratio: r.ratio,
    spread: r.spread,
    target: 1.0,
    notes: [`${row.note}; ${r.rounds} rounds, a new directory each, open and close not timed`],
  })
}

// --------------------------------------------------------------------- reads

phase('reads: filling both stores')
const coldDir = await freshDir('cold-r')
const lmdbDir = await freshDir('lmdb-r')
{
  const store = await openCold(coldDir, 'interval')
  for (let at = 0; at < ENTRIES; at += WRITE_BATCH) {
    await store.putMany(keys.slice(at, at + WRITE_BATCH).map((key, j) => ({ key, value: values[at + j], expiresAt: 0 })))
  }
  await store.close()
  const db = openLmdb({ path: lmdbDir, encoding: 'binary' })
  for (let at = 0; at < ENTRIES; at += WRITE_BATCH) {
    await db.transaction(() => {
      for (let i = at; i < at + WRITE_BATCH; i++) db.put(keys[i], values[i])
    })
  }
  await db.close()
}
// Reopened, as a cache restarting would find them; then every value is read once so the page cache is warm.
const cold = await openCold(coldDir, 'interval')
const lmdb: RootDatabase<Buffer, string> = openLmdb({ path: lmdbDir, encoding: 'binary' })
for (let at = 0; at < ENTRIES; at += GET_MANY) {
  const got = await cold.getMany(keys.slice(at, at + GET_MANY))
  for (let j = 0; j < got.length; j++) {
    const v = got[j]?.value
    if (v === undefined || Buffer.compare(v, values[at + j]) !== 0) throw new Error(`cold value of ${keys[at + j]} differs`)
  }
}
for (let i = 0; i < ENTRIES; i++) {
  const v = lmdb.get(keys[i])
  if (v === undefined || Buffer.compare(v, values[i]) !== 0) throw new Error(`lmdb value of ${keys[i]} differs`)
}

const coldGet: Reader = (key) => cold.get(key)
const lmdbGet: Reader = (key) => lmdb.get(key)

for (const workers of [1, IN_FLIGHT]) {
  phase(`reads: ${workers} in flight`)
  const r = await compare(readBatch(coldGet, workers, keys, order), readBatch(lmdbGet, workers, keys, order), {
    ops: 4_000,
    rounds: roundsFromArgs(11),
    warmup: 3,
  })
  report({
    id: `cold-read-${workers}`,
    title: `cold: random read, ${workers} in flight`,
    strata: r.a,
    baseline: r.b,
    baselineName: 'await lmdb.get',
    unit: 'ns/op',
    ratio: r.ratio,
    spread: r.spread,
    target: 4.0,
    notes: [
      `${workers} loop(s) each awaiting \`await store.get(k)\` vs \`await db.get(k)\` (lmdb's get is synchronous; awaiting it costs one microtask turn, ` +
        `~0.1 µs, and every caller of the cold tier awaits), random keys over ${ENTRIES}, page cache warm (stores reopened, every value read once), ` +
        `ColdStore readConcurrency 32 (default), ${r.rounds} rounds of 4,000 reads`,
    ],
  })
}

// ------------------------------------------------------------------- getMany

phase('getMany')
{
  const many = (get: (ks: string[]) => Promise<unknown[]>) => {
    let cursor = 0
    return async (ops: number) => {
      let found = 0
      for (let n = 0; n < ops; n++) {
        const ks: string[] = new Array(GET_MANY)
        for (let j = 0; j < GET_MANY; j++) ks[j] = keys[order[cursor++ & ORDER_MASK]]
        for (const v of await get(ks)) if (v !== undefined) found++
      }
      if (found !== ops * GET_MANY) throw new Error(`found ${found} of ${ops * GET_MANY}`)
      return found
    }
  }
  const r = await compare(
    many((ks) => cold.getMany(ks)),
    many((ks) => lmdb.getMany(ks)),
    { ops: 100, rounds: roundsFromArgs(11), warmup: 3 },
  )
  report({
    id: 'cold-getmany',
    title: `cold: getMany of ${GET_MANY} keys`,
    strata: r.a / 1000,
    baseline: r.b / 1000,
    baselineName: 'await lmdb.getMany',
    unit: 'µs/op',
    ratio: r.ratio,
    spread: r.spread,
    notes: [
      `one op = one awaited getMany of ${GET_MANY} random keys; ColdStore reads them in parallel (≤ 32 positioned reads in flight), lmdb prefetches on a thread and then gets synchronously; ${r.rounds} rounds of 100 calls`,
    ],
  })
}

// ---------------------------------------------------------- event-loop delay

phase('event-loop delay')
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * 64 requests for LOOP_RUN_MS, each reading a random key and then giving the
 * loop a turn before its next read; a 1 ms histogram timer records how late
 * the loop runs it. Returns the largest delay in ms (p99 and reads kept aside).
 */
function loopDelay(read: Reader, seen: { p99: number[]; reads: number[] }) {
  let cursor = 0
  return async (): Promise<number> => {
    const h = monitorEventLoopDelay({ resolution: 1 })
    const deadline = performance.now() + LOOP_RUN_MS
    let reads = 0
    h.enable()
    const request = async () => {
      while (performance.now() < deadline) {
        consume(await read(keys[order[cursor++ & ORDER_MASK]]))
        reads++
        await nextTurn()
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, request))
    h.disable()
    seen.p99.push(h.percentile(99) / 1e6)
    seen.reads.push(reads)
    return h.max / 1e6
  }
}

{
  const coldSeen = { p99: [] as number[], reads: [] as number[] }
  const lmdbSeen = { p99: [] as number[], reads: [] as number[] }
  const r = await compareMeasured(loopDelay(coldGet, coldSeen), loopDelay(lmdbGet, lmdbSeen), { rounds: roundsFromArgs(4), warmup: 1 })
  const rate = (reads: number[]) => Math.round(median(reads.slice(-r.rounds)) / (LOOP_RUN_MS / 1000)).toLocaleString('en-US')
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ')
  report({
    id: 'cold-loop-delay',
    title: 'cold: event-loop max delay, 64 requests reading',
    strata: r.a,
    baseline: r.b,
    baselineName: 'lmdb.get',
    unit: 'ms',
    ratio: r.ratio,
    spread: r.spread,
    target: 1.0,
    notes: [
      `${IN_FLIGHT} requests for ${LOOP_RUN_MS} ms a round, each: one read of a random key, then setImmediate before its next; ` +
        `perf_hooks monitorEventLoopDelay (resolution 1 ms) enabled only during the run; figure = median over ${r.rounds} rounds of the largest delay ` +
        `(rounds: cold ${ms(r.as)} ms, lmdb ${ms(r.bs)} ms; p99 cold ${median(coldSeen.p99.slice(-r.rounds)).toFixed(2)} ms, lmdb ${median(lmdbSeen.p99.slice(-r.rounds)).toFixed(2)} ms; ` +
        `reads served: cold ${rate(coldSeen.reads)}/s, lmdb ${rate(lmdbSeen.reads)}/s)`,
    ],
  })
}

await cold.close()
await lmdb.close()

// -------------------------------------------------------------- disk bytes

phase('disk bytes')
{
  const codec = createDefaultCodec()
  const encoded = keys.map((_, i) => codec.encode(makeRecord(i)))
  const encodedBytes = encoded.reduce((n, v) => n + v.byteLength, 0)
  const dir = await freshDir('cold-d')
  const store = await openCold(dir, 'interval')
  for (let at = 0; at < ENTRIES; at += WRITE_BATCH) {
    await store.putMany(encoded.slice(at, at + WRITE_BATCH).map((value, j) => ({ key: keys[at + j], value, expiresAt: 0 })))
  }
  await store.close()
  const coldDisk = await diskUsage(dir)

  const ldir = await freshDir('lmdb-d')
  // lmdb's default encoding: msgpackr (no shared structures, no compression unless asked).
  const db = openLmdb({ path: ldir })
  let last: Promise<boolean> = Promise.resolve(true)
  for (let i = 0; i < ENTRIES; i++) last = db.put(keys[i], makeRecord(i))
  await last
  await db.close()
  const lmdbDisk = await diskUsage(ldir)

  const per = (n: number) => n / ENTRIES
  report({
    id: 'cold-disk',
    title: 'cold: disk bytes, 100k compressible records',
    strata: per(coldDisk.allocated),
    baseline: per(lmdbDisk.allocated),
    baselineName: 'lmdb, msgpack',
    unit: 'B/entry',
    ratio: coldDisk.allocated / lmdbDisk.allocated,
    notes: [
      `ColdStore holds the cache's encoding (createDefaultCodec: msgpackr, LZ4 from 1 KiB), ${Math.round(encodedBytes / ENTRIES)} B a value on average, ` +
        `plus a 32-byte header and the key per record; lmdb holds its default msgpack encoding of the same objects (no compression); ` +
        `the JSON form is ${Math.round(valueBytes / ENTRIES)} B on average`,
      `allocated bytes (st_blocks × 512) of every file: cold ${(coldDisk.allocated / 2 ** 20).toFixed(1)} MiB (${coldDisk.files.length} files, apparent ${(coldDisk.size / 2 ** 20).toFixed(1)} MiB), ` +
        `lmdb ${(lmdbDisk.allocated / 2 ** 20).toFixed(1)} MiB (${lmdbDisk.files.join(', ')}, apparent ${(lmdbDisk.size / 2 ** 20).toFixed(1)} MiB)`,
    ],
  })
}

removeRoot()
phase('done')
