/**
 * The disk path through the public API, side by side in one process with
 * its parts: a cache with a small memory above a disk, against the cold
 * store's own `ColdStore.get` and against lmdb returning the same objects.
 *
 * The cache is configured as docs/getting-started.md shows a disk under
 * memory, with memory small so that reads go to disk: `createCache({ hot:
 * { maxEntries: 1000 }, cold: { dir } })` (warm off, its default; the
 * default codec, values: 'data', fsync 'interval'). Values are the records
 * of `records.ts` (~1 KiB as JSON) as objects; lmdb is opened with its
 * default encoding (msgpackr), so its `get` returns objects too.
 *
 *   1. writes: `setMany` of the 100,000 objects in batches of 1,000, then
 *      `checkpoint()`, against lmdb `put` of each, awaited, then `flushed`
 *   2. random reads, page cache warm, 64 in flight: `cache.get` against
 *      `ColdStore.get` (the bytes the cache wrote, in a copy of its
 *      directory) and against lmdb's `get`
 *   3. `getMany` of 100 keys on disk against 100 single `get`s, per key
 *
 * The cache and the store come from the compiled package (dist/, see
 * built.ts), as users run them: `npm run bench` builds it first.
 *
 * `--trace` prints each phase's wall time on stderr.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { cp, mkdir, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import type { Cache } from '../src/index.js'
import { importBuilt } from './built.js'
import { accessOrder, compare, compareMeasured, makeKeys, report, roundsFromArgs, readBatch, type Reader } from './harness.js'
import { makeRecord, type ProductRecord, prng } from './records.js'

const ENTRIES = 100_000
const SET_BATCH = 1_000
const HOT_ENTRIES = 1_000
const IN_FLIGHT = 64
const GET_MANY = 100
const READ_OPS = 4_000
const ORDER_MASK = (1 << 17) - 1

const { createCache } = await importBuilt<typeof import('../src/index.js')>('src/index.js')
const { ColdStore } = await importBuilt<typeof import('../src/tiers/cold/index.js')>('src/tiers/cold/index.js')

const trace = process.argv.includes('--trace')
const started = performance.now()
const phase = (what: string): void => {
  if (trace) process.stderr.write(`  [${((performance.now() - started) / 1000).toFixed(1)} s] ${what}\n`)
}

const keys = makeKeys(ENTRIES)
const order = accessOrder(ENTRIES, ORDER_MASK + 1, prng(11))
// Fresh objects for every write round: the cache freezes what it stores, and a frozen root is not walked again.
const freshRecords = (): ProductRecord[] => keys.map((_, i) => makeRecord(i))

const root = mkdtempSync(join(os.tmpdir(), 'strata-public-cold-'))
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

async function openCache(dir: string): Promise<Cache<ProductRecord>> {
  const cache = createCache<ProductRecord>({ hot: { maxEntries: HOT_ENTRIES }, cold: { dir } })
  await cache.ready
  return cache
}

// An application's batches arrive over I/O: between them the loop turns, and the demotions written behind them go to disk.
// (Without it the whole run is one chain of microtasks, every demotion stays staged, and past the staging bound the cache drops entries.)
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const nsPerOp = (start: bigint, ops: number): number => Number(process.hrtime.bigint() - start) / ops

// -------------------------------------------------------------------- writes

async function cacheWrites(): Promise<number> {
  const dir = await freshDir('cache-w')
  const records = freshRecords()
  const cache = await openCache(dir)
  const start = process.hrtime.bigint()
  for (let at = 0; at < ENTRIES; at += SET_BATCH) {
    const batch = new Array(SET_BATCH)
    for (let i = 0; i < SET_BATCH; i++) batch[i] = { key: keys[at + i], value: records[at + i] }
    await cache.setMany(batch)
    await nextTurn()
  }
  await cache.checkpoint()
  const ns = nsPerOp(start, ENTRIES)
  const held = cache.stats().tiers.cold.entries
  if (held !== ENTRIES) throw new Error(`the cache's disk holds ${held} entries`)
  await cache.close()
  await rm(dir, { recursive: true })
  return ns
}

async function lmdbWrites(): Promise<number> {
  const dir = await freshDir('lmdb-w')
  const records = freshRecords()
  const db = openLmdb<ProductRecord, string>({ path: dir })
  const start = process.hrtime.bigint()
  const puts: Promise<boolean>[] = new Array(ENTRIES)
  for (let i = 0; i < ENTRIES; i++) puts[i] = db.put(keys[i], records[i])
  await Promise.all(puts)
  await db.flushed
  const ns = nsPerOp(start, ENTRIES)
  const { entryCount } = db.getStats() as { entryCount: number }
  if (entryCount !== ENTRIES) throw new Error(`lmdb holds ${entryCount} entries`)
  await db.close()
  await rm(dir, { recursive: true })
  return ns
}

phase('writes')
{
  const r = await compareMeasured(cacheWrites, lmdbWrites, { rounds: roundsFromArgs(5), warmup: 1 })
  report({
    id: 'public-cold-write',
    title: 'public: 100k setMany ×1000 + checkpoint',
    strata: r.a,
    baseline: r.b,
    baselineName: 'lmdb put of the objects',
    unit: 'ns/op',
    ratio: r.ratio,
    spread: r.spread,
    target: 1.0,
    notes: [
      `cache { hot: { maxEntries: ${HOT_ENTRIES} }, cold: { dir } }: ${ENTRIES / SET_BATCH} awaited setMany of ${SET_BATCH} record objects, each followed by one turn of the event loop (setImmediate), then checkpoint() ` +
        `(every entry on disk, data and directory fsynced); lmdb default encoding (msgpackr), ${ENTRIES} put() promises awaited, then db.flushed; ` +
        `fresh objects and a new directory every round, open and close not timed; ${r.rounds} rounds`,
    ],
  })
}

// --------------------------------------------------------------------- reads

phase('reads: filling')
const cacheDir = await freshDir('cache-r')
const storeDir = join(root, 'store-r')
const lmdbDir = await freshDir('lmdb-r')
{
  const records = freshRecords()
  const cache = await openCache(cacheDir)
  for (let at = 0; at < ENTRIES; at += SET_BATCH) {
    await cache.setMany(keys.slice(at, at + SET_BATCH).map((key, j) => ({ key, value: records[at + j] })))
    await nextTurn()
  }
  await cache.close()
  // The store reads the very bytes the cache wrote, from a copy: one directory takes one owner.
  await cp(cacheDir, storeDir, { recursive: true })
  const db = openLmdb<ProductRecord, string>({ path: lmdbDir })
  for (let at = 0; at < ENTRIES; at += SET_BATCH) {
    await db.transaction(() => {
      for (let i = at; i < at + SET_BATCH; i++) db.put(keys[i], records[i])
    })
  }
  await db.close()
}

// Reopened, as after a restart; every key read once on each side so the page cache is warm.
const cache = await openCache(cacheDir)
const store = await ColdStore.open({
  dir: storeDir,
  now: Date.now,
  onError: (e) => {
    throw e
  },
})
const lmdb: RootDatabase<ProductRecord, string> = openLmdb({ path: lmdbDir })
for (let at = 0; at < ENTRIES; at += GET_MANY) {
  const slice = keys.slice(at, at + GET_MANY)
  const [fromCache, fromStore] = await Promise.all([cache.getMany(slice), store.getMany(slice)])
  for (let j = 0; j < slice.length; j++) {
    if (fromCache[j]?.id !== at + j) throw new Error(`the cache's value of ${slice[j]} differs`)
    if (fromStore[j] === undefined) throw new Error(`the store misses ${slice[j]}`)
    if (lmdb.get(slice[j])?.id !== at + j) throw new Error(`lmdb's value of ${slice[j]} differs`)
  }
}

const cacheGet: Reader = (key) => cache.get(key)
const sides: { id: string; baselineName: string; read: Reader; target: number; what: string }[] = [
  {
    id: 'store',
    baselineName: 'ColdStore.get',
    read: (key) => store.get(key),
    target: 1 / 0.6,
    what: "ColdStore.get(k) (bytes, the store's default tags decoding) on a copy of the cache's directory",
  },
  {
    id: 'lmdb',
    baselineName: 'lmdb get (objects)',
    read: (key) => lmdb.get(key),
    target: 1 / 0.5,
    what: "lmdb's get(k) (synchronous, default msgpackr encoding: an object)",
  },
]
for (const side of sides) {
  phase(`reads vs ${side.id}`)
  const r = await compare(readBatch(cacheGet, IN_FLIGHT, keys, order), readBatch(side.read, IN_FLIGHT, keys, order), {
    ops: READ_OPS,
    rounds: roundsFromArgs(11),
    warmup: 3,
  })
  report({
    id: `public-cold-read-vs-${side.id}`,
    title: `public: random get, ${IN_FLIGHT} in flight, vs ${side.id}`,
    strata: r.a,
    baseline: r.b,
    baselineName: side.baselineName,
    unit: 'ns/op',
    ratio: r.ratio,
    spread: r.spread,
    target: side.target,
    notes: [
      `${IN_FLIGHT} loops each awaiting \`await cache.get(k)\` vs \`await ${side.what}\`; random keys over ${ENTRIES}, ` +
        `~${((HOT_ENTRIES / ENTRIES) * 100).toFixed(0)} % of them in hot, the rest read from disk and promoted; page cache warm; ` +
        `target ≤ ${side.target.toFixed(2)} (${(1 / side.target).toFixed(1)}x the baseline's speed); ${r.rounds} rounds of ${READ_OPS} reads`,
    ],
  })
}

// ------------------------------------------------------------------- getMany

phase('getMany vs single gets')
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
  const singles = (ks: string[]): Promise<unknown[]> => Promise.all(ks.map((k) => cache.get(k)))
  const r = await compare(
    many((ks) => cache.getMany(ks)),
    many(singles),
    { ops: 40, rounds: roundsFromArgs(11), warmup: 3 },
  )
  report({
    id: 'public-getmany',
    title: `public: getMany of ${GET_MANY} keys on disk, per key`,
    strata: r.a / GET_MANY,
    baseline: r.b / GET_MANY,
    baselineName: `${GET_MANY} single gets, all in flight`,
    unit: 'ns/op',
    ratio: r.ratio,
    spread: r.spread,
    target: 1.0,
    notes: [
      `one op = one awaited cache.getMany of ${GET_MANY} random keys vs Promise.all of ${GET_MANY} cache.get of the same kind of keys (each side its own copy of one seeded order), ` +
        `figures per key; the same cache as the reads above; ${r.rounds} rounds of 40 calls`,
    ],
  })
}

await cache.close()
await store.close()
await lmdb.close()
removeRoot()
phase('done')
