/**
 * Write-back against writing straight to the source, through the public
 * API: Zipf 0.99 writes over 100,000 keys, 64 in flight. The source is a
 * file of JSON lines that fsyncs (datasync) every call before it answers,
 * the same for both sides. Reported:
 *
 * - `set` latency p50 and p99 with write-back (journal append and its
 *   fsync included, group commit) against each write calling the source
 *   itself, interleaved over rounds (A B, B A, ...);
 * - source writes per cache write with write-back (coalescing, after a flush);
 * - flush throughput: 100,000 distinct dirty keys written by `flush()`, in
 *   batches of 500, ops per second;
 * - the event loop's largest delay while those 100,000 dirty entries flush
 *   (monitorEventLoopDelay, 1 ms resolution; target under 10 ms).
 */
import { mkdtemp, open, rm } from 'node:fs/promises'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { createCache, type WriteOp } from '../src/index.js'
import { permutation, zipf } from '../examples/zipf.js'
import { makeKeys, median, quantile, report, roundsFromArgs } from './harness.js'

const KEYS = 100_000
const WRITES = 5_000
const IN_FLIGHT = 64
const FLUSH_KEYS = 100_000
const rounds = roundsFromArgs(3)

const keys = makeKeys(KEYS)
let seed = 42
const random = (): number => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 2 ** 32
}
const rank = zipf(KEYS, 0.99, random)
const ids = permutation(KEYS, random)
const record = (i: number) => ({ id: i, name: `item ${i}`, price: i * 3, tags: ['a', 'b'] })

/** A source that appends each call's ops to a file and fsyncs before answering; `gate`, when set, holds every call. */
async function fileSource(dir: string) {
  const fh = await open(join(dir, 'source.jsonl'), 'a')
  let calls = 0
  let ops = 0
  const source = { gate: undefined as Promise<void> | undefined, write, close: () => fh.close(), counts: () => ({ calls, ops }) }
  async function write(batch: WriteOp<unknown>[]): Promise<void> {
    if (source.gate !== undefined) await source.gate
    calls++
    ops += batch.length
    await fh.write(`${batch.map((op) => JSON.stringify(op)).join('\n')}\n`)
    await fh.datasync()
  }
  return source
}

/** The disk's own floor: one small append and its datasync at a time, WRITES times; the latency of each in ms. */
async function fsyncFloor(): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-fsync-'))
  const fh = await open(join(dir, 'floor'), 'a')
  const latencies: number[] = []
  const line = Buffer.alloc(100, 120)
  for (let i = 0; i < WRITES / 5; i++) {
    const began = performance.now()
    await fh.write(line)
    await fh.datasync()
    latencies.push(performance.now() - began)
  }
  await fh.close()
  await rm(dir, { recursive: true, force: true })
  return latencies
}

/** Runs WRITES sets of Zipf-drawn keys, IN_FLIGHT at a time; each set's latency in ms. */
async function drive(set: (key: string, value: unknown) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < WRITES) {
      const i = next++
      const key = keys[ids[rank()]] as string
      const began = performance.now()
      await set(key, record(i))
      latencies.push(performance.now() - began)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return latencies
}

async function writeBackRound(): Promise<{ p50: number; p99: number; perWrite: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-wb-'))
  const source = await fileSource(dir)
  const cache = createCache<unknown>({
    hot: { maxEntries: KEYS },
    writer: { mode: 'back', write: source.write, journal: join(dir, 'journal'), batchSize: 500, flushInterval: 1000, maxDirty: KEYS },
  })
  await cache.ready
  const latencies = await drive((key, value) => cache.set(key, value))
  await cache.flush()
  const { ops } = source.counts()
  await cache.close()
  await source.close()
  await rm(dir, { recursive: true, force: true })
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), perWrite: ops / WRITES }
}

async function directRound(): Promise<{ p50: number; p99: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-direct-'))
  const source = await fileSource(dir)
  const latencies = await drive((key, value) => source.write([{ type: 'set', key, value }]))
  await source.close()
  await rm(dir, { recursive: true, force: true })
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) }
}

/** 100,000 distinct dirty keys, then one flush(): its throughput and the loop's largest delay meanwhile. */
async function flushRound(): Promise<{ opsPerSecond: number; maxDelay: number; idle: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-flush-'))
  const source = await fileSource(dir)
  const cache = createCache<unknown>({
    hot: { maxEntries: FLUSH_KEYS },
    writer: { mode: 'back', write: source.write, journal: join(dir, 'journal'), batchSize: 500, flushInterval: 3_600_000, maxDirty: FLUSH_KEYS },
  })
  await cache.ready
  // The source holds its first batch until every key is dirty: then 100,000 dirty entries flush.
  let open!: () => void
  source.gate = new Promise((resolve) => (open = resolve))
  for (let at = 0; at < FLUSH_KEYS; at += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => cache.set(keys[at + i] as string, record(at + i))))
  }
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  await new Promise((resolve) => setTimeout(resolve, 5))
  // The idle floor, just before: what the machine alone does to the loop (other processes, the GC), for reference.
  histogram.reset()
  await new Promise((resolve) => setTimeout(resolve, 300))
  const idle = histogram.max / 1e6
  histogram.reset()
  const began = performance.now()
  source.gate = undefined
  open()
  await cache.flush()
  const ms = performance.now() - began
  histogram.disable()
  await cache.close()
  await source.close()
  await rm(dir, { recursive: true, force: true })
  return { opsPerSecond: FLUSH_KEYS / (ms / 1000), maxDelay: histogram.max / 1e6, idle }
}

const floors: number[] = []
const back: Awaited<ReturnType<typeof writeBackRound>>[] = []
const direct: Awaited<ReturnType<typeof directRound>>[] = []
await writeBackRound() // warm-up
for (let round = 0; round < rounds; round++) {
  floors.push(quantile(await fsyncFloor(), 0.99))
  if (round % 2 === 0) {
    back.push(await writeBackRound())
    direct.push(await directRound())
  } else {
    direct.push(await directRound())
    back.push(await writeBackRound())
  }
}
const flushes: Awaited<ReturnType<typeof flushRound>>[] = []
for (let round = 0; round < rounds; round++) flushes.push(await flushRound())

const p99 = median(back.map((r) => r.p99))
const p50 = median(back.map((r) => r.p50))
const directP99 = median(direct.map((r) => r.p99))
const directP50 = median(direct.map((r) => r.p50))
const perWrite = median(back.map((r) => r.perWrite))
const throughput = median(flushes.map((r) => r.opsPerSecond))
const maxDelay = Math.max(...flushes.map((r) => r.maxDelay))
const load = os.loadavg()[0].toFixed(1)

report({
  id: 'write-back-set',
  title: 'write-back set p99 vs direct fsynced write',
  strata: p99,
  baseline: directP99,
  baselineName: 'direct write',
  unit: 'ms',
  ratio: p99 / directP99,
  spread: [Math.min(...back.map((r) => r.p99)) / directP99, Math.max(...back.map((r) => r.p99)) / directP99],
  notes: [
    `set p50 ${p50.toFixed(2)} ms with write-back, ${directP50.toFixed(2)} ms direct (ratio ${(p50 / directP50).toFixed(3)})`,
    `Zipf 0.99 over ${KEYS} keys, ${WRITES} writes, ${IN_FLIGHT} in flight, median of ${rounds} rounds`,
    `the disk's floor: one append + datasync at a time, p99 ${median(floors).toFixed(2)} ms (a set waits for at most the commit under way and its own)`,
    `load average at the end: ${load} on ${os.availableParallelism()} cores`,
  ],
})
report({
  id: 'write-back-set-p99-target',
  title: 'write-back set p99 vs the 2 ms target',
  strata: p99,
  baseline: 2,
  baselineName: 'target',
  unit: 'ms',
  ratio: p99 / 2,
  target: 1,
  notes: [],
})
report({
  id: 'write-back-coalescing',
  title: 'source ops per cache write (write-back)',
  strata: perWrite,
  baseline: 1,
  baselineName: 'direct',
  unit: 'ratio',
  ratio: perWrite,
  notes: [`coalescing: ${(perWrite * 100).toFixed(1)} % of the cache's writes reach the source`],
})
report({
  id: 'write-back-flush',
  title: 'flush of 100,000 dirty keys: loop delay vs 10 ms',
  strata: maxDelay,
  baseline: 10,
  baselineName: 'target',
  unit: 'ms',
  ratio: maxDelay / 10,
  target: 1,
  notes: [
    `flush throughput ${Math.round(throughput)} ops/s (batches of 500, one fsynced source call each), median of ${rounds} rounds`,
    `largest delay per round ${flushes.map((r) => r.maxDelay.toFixed(1)).join(', ')} ms; idle floor just before each ${flushes.map((r) => r.idle.toFixed(1)).join(', ')} ms`,
  ],
})
