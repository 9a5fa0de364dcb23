/**
 * Many instances on one Redis, strata-cache (a remote tier and its bus on
 * the same server) side by side with bentocache (memory L1, Redis L2,
 * Redis bus), in one run, through the public APIs only:
 *
 * - L1 hit: a key held in memory (information).
 * - L2 hit: L1 misses (an L1 of 16 entries over 4,096 keys), the value is
 *   in Redis; one read in flight and 32. Target: at most bentocache's time.
 * - set: acknowledged once Redis has it (and the bus is told); one in flight
 *   and 32. Target: at most bentocache's time.
 * - getOrSet stampede: three processes ask for the same fresh keys at the
 *   same moment, 8 callers per key in each, from a source that takes 20 ms:
 *   source calls per key, and the callers' p50 and p99 (information).
 * - invalidation: a set on instance A (this process) until instance B
 *   (another process, holding the old value in memory) no longer serves
 *   it, seen on B by its own events; p50 and p99, next to a bare PUBLISH
 *   to SUBSCRIBE between the same processes (what any bus on Redis costs
 *   at least, on this machine now). Target: p99 ≤ 5 ms on loopback.
 *
 * Needs a Redis at REDIS_URL (default redis://127.0.0.1:6379); every key
 * it writes is under this run's own prefix and removed at the end.
 */
import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { accessOrder, type Batch, compare, makeKeys, median, quantile, readBatch, report, roundsFromArgs } from './harness.js'
import { msBetween, Peer } from './distributed/ipc.js'
import { dropKeys, floorPublisher } from './distributed/redis-floor.js'
import { type Namespace, openSide, type Side, type SideName } from './distributed/sides.js'
import type { Revision } from './distributed/values.js'
import { makeRecord, prng } from './records.js'

const rounds = roundsFromArgs(21)
const run = randomUUID().slice(0, 8)
const namespace = (scenario: string): Namespace => ({ strataPrefix: `strata-bench:${run}:${scenario}:`, bentoPrefix: `bento-bench-${run}-${scenario}` })
const SIDES: SideName[] = ['strata-cache', 'bentocache']
const KEYS = 4096
const MASK = (1 << 16) - 1
const keys = makeKeys(KEYS)
const values: Revision[] = keys.map((_, i) => ({ ...makeRecord(i), rev: 0 }))
const order = accessOrder(KEYS, MASK + 1, prng(7))

const open = async (scenario: string, l1Entries: number): Promise<Side<Revision>[]> => {
  const sides = SIDES.map((name) => openSide<Revision>(name, namespace(scenario), l1Entries))
  await Promise.all(sides.map((side) => side.ready))
  return sides
}
const fill = async (side: Side<Revision>): Promise<void> => {
  for (let i = 0; i < KEYS; i += 64) await Promise.all(keys.slice(i, i + 64).map((key, j) => side.set(key, values[i + j])))
}
const layers = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([layer, n]) => `${layer} ${n}`)
    .join(', ')
const micro = (ns: number): number => ns / 1000
/** The machine's load when a scenario ended: its neighbours colour every absolute figure, though not the interleaved ratios. */
const load = (): string => `load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`

/** Reads or writes of random keys by `workers` loops, each awaiting its call before the next. */
function writeBatch(side: Side<Revision>, workers: number): Batch {
  let cursor = 0
  return async (ops: number) => {
    let left = ops
    const worker = async () => {
      while (left > 0) {
        left--
        const k = order[cursor++ & MASK]
        await side.set(keys[k], values[k])
      }
    }
    await Promise.all(Array.from({ length: workers }, worker))
    return ops
  }
}

async function l1Hit(): Promise<void> {
  const [strata, bento] = await open('l1', 2 * KEYS)
  await Promise.all([fill(strata), fill(bento)])
  const read = (side: Side<Revision>) => readBatch((key) => side.get(key), 1, keys, order)
  const where = await Promise.all([strata, bento].map((side) => side.countHits(() => read(side)(1000))))
  const result = await compare(read(strata), read(bento), { ops: 20_000, rounds })
  report({
    id: 'distributed-l1-hit',
    title: 'L1 hit: await get, value in memory',
    strata: result.a,
    baseline: result.b,
    baselineName: 'bentocache',
    unit: 'ns/op',
    ratio: result.ratio,
    spread: result.spread,
    notes: [
      `${KEYS} keys held in both L1s (bentocache's memory driver keeps JSON strings and parses on each hit, its default); answered from: strata ${layers(where[0])}; bentocache ${layers(where[1])}; ${rounds} rounds; ${load()}`,
    ],
  })
  await Promise.all([strata.close(), bento.close()])
}

async function l2Hit(): Promise<void> {
  const [strata, bento] = await open('l2', 16)
  await Promise.all([fill(strata), fill(bento)])
  for (const workers of [1, 32]) {
    const read = (side: Side<Revision>) => readBatch((key) => side.get(key), workers, keys, order)
    const where = await Promise.all([strata, bento].map((side) => side.countHits(() => read(side)(1000))))
    const result = await compare(read(strata), read(bento), { ops: workers === 1 ? 400 : 2000, rounds })
    report({
      id: `distributed-l2-hit-${workers}`,
      title: `L2 hit: await get, L1 miss, ${workers} in flight`,
      strata: micro(result.a),
      baseline: micro(result.b),
      baselineName: 'bentocache',
      unit: 'µs/op',
      ratio: result.ratio,
      spread: result.spread,
      target: 1,
      notes: [
        `L1 of 16 entries over ${KEYS} keys in Redis, random keys; answered from: strata ${layers(where[0])}; bentocache ${layers(where[1])}; ${rounds} rounds; ${load()}`,
      ],
    })
  }
  await Promise.all([strata.close(), bento.close()])
}

async function set(): Promise<void> {
  const [strata, bento] = await open('set', 2 * KEYS)
  for (const workers of [1, 32]) {
    const result = await compare(writeBatch(strata, workers), writeBatch(bento, workers), { ops: workers === 1 ? 400 : 2000, rounds })
    report({
      id: `distributed-set-${workers}`,
      title: `set: await set, acknowledged after Redis, ${workers} in flight`,
      strata: micro(result.a),
      baseline: micro(result.b),
      baselineName: 'bentocache',
      unit: 'µs/op',
      ratio: result.ratio,
      spread: result.spread,
      target: 1,
      notes: [
        `random keys of ${KEYS}, ~1 KiB records; strata: one script (value, version, bus entry); bentocache: SET then PUBLISH; ${rounds} rounds; ${load()}`,
      ],
    })
  }
  await Promise.all([strata.close(), bento.close()])
}

const STAMPEDE_KEYS = 16
const CALLERS = 8
const SOURCE_MS = 20

async function stampede(instances: Peer[]): Promise<void> {
  const calls: Record<SideName, number[]> = { 'strata-cache': [], bentocache: [] }
  const latencies: Record<SideName, number[]> = { 'strata-cache': [], bentocache: [] }
  const once = async (side: SideName, round: number) => {
    const roundKeys = makeKeys(STAMPEDE_KEYS, `stampede:${round}:`)
    // Every process starts at the same moment of the machine's clock.
    const startAt = (process.hrtime.bigint() + 50_000_000n).toString()
    const replies = await Promise.all(
      instances.map((instance) =>
        instance.request<{ calls: number[]; latencies: number[] }>({ type: 'stampede', side, keys: roundKeys, callers: CALLERS, startAt, sourceMs: SOURCE_MS }),
      ),
    )
    if (round < 0) return // warm-up
    for (let k = 0; k < STAMPEDE_KEYS; k++) calls[side].push(replies.reduce((sum, reply) => sum + reply.calls[k], 0))
    for (const reply of replies) latencies[side].push(...reply.latencies)
  }
  await once('strata-cache', -1)
  await once('bentocache', -2)
  for (let round = 0; round < rounds; round++) {
    const sides = round % 2 === 0 ? SIDES : [...SIDES].reverse()
    for (const side of sides) await once(side, round)
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const [strataCalls, bentoCalls] = [mean(calls['strata-cache']), mean(calls.bentocache)]
  const setup = `3 processes × ${CALLERS} callers per key, ${STAMPEDE_KEYS} fresh keys per round, a source of ${SOURCE_MS} ms, ${rounds} rounds; ${load()}`
  report({
    id: 'distributed-stampede-calls',
    title: 'getOrSet stampede, 3 processes: source calls',
    strata: strataCalls,
    baseline: bentoCalls,
    baselineName: 'bentocache',
    unit: 'calls/key',
    ratio: strataCalls / bentoCalls,
    notes: [`${setup}; most calls for one key: strata ${Math.max(...calls['strata-cache'])}, bentocache ${Math.max(...calls.bentocache)}`],
  })
  for (const q of [0.5, 0.99]) {
    const [a, b] = [quantile(latencies['strata-cache'], q), quantile(latencies.bentocache, q)]
    report({
      id: `distributed-stampede-p${q * 100}`,
      title: `getOrSet stampede, 3 processes: p${q * 100} latency`,
      strata: a,
      baseline: b,
      baselineName: 'bentocache',
      unit: 'ms',
      ratio: a / b,
      notes: q === 0.5 ? [`${latencies['strata-cache'].length} calls per side; ${setup}`] : [],
    })
  }
}

const SAMPLES = rounds * 50
/** Longest wait for B to stop serving the old value before the run fails. */
const GIVE_UP_MS = 5000

/** The two caches, and 'floor': a bare PUBLISH to a bare SUBSCRIBE between the same two processes, in the same rounds. */
type Series = SideName | 'floor'

async function invalidation(instanceB: Peer, shared: Namespace): Promise<void> {
  const instancesA = Object.fromEntries(SIDES.map((name) => [name, openSide<Revision>(name, shared, 2 * KEYS)])) as Record<SideName, Side<Revision>>
  await Promise.all(SIDES.map((name) => instancesA[name].ready))
  const floor = await floorPublisher(`${shared.strataPrefix}floor`)
  const latencies: Record<Series, number[]> = { 'strata-cache': [], bentocache: [], floor: [] }
  const once = async (series: Series, i: number, keep: boolean) => {
    const key = `invalidation:${series}:${i}`
    await instanceB.request({ type: 'prepare', side: series, key, rev: 1 })
    const start = process.hrtime.bigint()
    if (series === 'floor') await floor.publish(key)
    else await instancesA[series].set(key, { ...makeRecord(i), rev: 2 })
    let timer: NodeJS.Timeout | undefined
    const seen = await Promise.race([
      instanceB.request<{ at: string; value: number | undefined }>({ type: 'invalidated', side: series, key }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${series}: instance B still served the old value of ${key} after ${GIVE_UP_MS} ms`)), GIVE_UP_MS)
      }),
    ])
    clearTimeout(timer)
    if (series !== 'floor' && seen.value !== 2) throw new Error(`${series}: instance B serves revision ${seen.value} of ${key} after the invalidation, not 2`)
    if (keep) latencies[series].push(msBetween(start, seen.at))
  }
  const all: Series[] = [...SIDES, 'floor']
  for (let i = 0; i < 50; i++) for (const series of all) await once(series, -i - 1, false)
  // Each round in a rotated order, so no series always follows the same one.
  for (let i = 0; i < SAMPLES; i++) for (let j = 0; j < all.length; j++) await once(all[(i + j) % all.length], i, true)
  await Promise.all([...SIDES.map((name) => instancesA[name].close()), floor.close()])
  const floorOf = (q: number) => quantile(latencies.floor, q).toFixed(3)
  for (const q of [0.5, 0.99]) {
    const [a, b] = [quantile(latencies['strata-cache'], q), quantile(latencies.bentocache, q)]
    report({
      id: `distributed-invalidation-p${q * 100}`,
      title: `invalidation, set on A until B drops the old value: p${q * 100}`,
      strata: a,
      baseline: b,
      baselineName: 'bentocache',
      unit: 'ms',
      ratio: a / b,
      notes: [
        `bare PUBLISH to SUBSCRIBE between the same processes in the same rounds: p${q * 100} ${floorOf(q)} ms`,
        ...(q === 0.5
          ? [
              `${SAMPLES} sets per side, interleaved; B is another process holding the old value in L1, timed on the machine's monotonic clock; max: strata ${Math.max(...latencies['strata-cache']).toFixed(2)} ms, bentocache ${Math.max(...latencies.bentocache).toFixed(2)} ms, bare pub/sub ${Math.max(...latencies.floor).toFixed(2)} ms`,
            ]
          : []),
      ],
    })
  }
  const p99 = quantile(latencies['strata-cache'], 0.99)
  report({
    id: 'distributed-invalidation-bound',
    title: 'invalidation p99 against 5 ms on loopback',
    strata: p99,
    baseline: 5,
    baselineName: 'the bound',
    unit: 'ms',
    ratio: p99 / 5,
    target: 1,
    notes: [`strata-cache's median of the same samples: ${median(latencies['strata-cache']).toFixed(3)} ms; bare pub/sub p99 ${floorOf(0.99)} ms; ${load()}`],
  })
}

const shared = namespace('shared')
try {
  await l1Hit()
  await l2Hit()
  await set()
  const script = fileURLToPath(new URL('./distributed/instance.ts', import.meta.url))
  const instances = await Promise.all([0, 1, 2].map(() => Peer.start(script, [shared.strataPrefix, shared.bentoPrefix])))
  try {
    await stampede(instances)
    await invalidation(instances[0], shared)
  } finally {
    await Promise.all(instances.map((instance) => instance.stop()))
  }
} finally {
  await dropKeys([`strata-bench:${run}:*`, `bento-bench-${run}*`])
}
