import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, type ExpectStatic, it, type TestContext } from 'vitest'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { connectClient, type PrivateRedis, startPrivateRedis, testPrefix } from '../helpers/redis.js'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { CoherenceRun, type WorkerLog } from './coherence-run.js'
import { type CheckReport, checkHistory, type Instant } from './history-check.js'

const DURATION = 10_000
const COMMAND_TIMEOUT = 400

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const ms = (from: Instant, to: Instant): number => Number(to - from) / 1e6

interface FaultRun {
  server: PrivateRedis
  /** The test's own connection, to the server itself. */
  client: RedisClient
  run: CoherenceRun
}

/** Three workers on a private Redis (through a proxy if asked), ready to go; all closed when the test ends. */
async function startRun(
  name: string,
  { onTestFinished }: TestContext,
  { proxied = false, duration = DURATION } = {},
): Promise<FaultRun & { proxy?: TcpProxy }> {
  const opened: { close(): Promise<void> }[] = []
  onTestFinished(async () => {
    for (const thing of opened.reverse()) await thing.close().catch(() => undefined)
  })
  const dir = await mkdtemp(join(tmpdir(), 'strata-faults-'))
  opened.push({ close: () => rm(dir, { recursive: true, force: true }) })
  const server = await startPrivateRedis()
  opened.push({ close: () => server.stop() })
  const proxy = proxied ? await startTcpProxy(server.url) : undefined
  if (proxy !== undefined) opened.push(proxy)
  const client = await connectClient(server.url)
  opened.push({ close: async () => client.destroy() })
  const run = new CoherenceRun({
    url: proxy?.url ?? server.url,
    client,
    prefix: testPrefix(name),
    workers: 3,
    duration,
    commandTimeout: COMMAND_TIMEOUT,
    dir,
  })
  opened.push({ close: async () => run.kill() })
  await run.start()
  return { server, client, run, proxy }
}

/**
 * Runs last long enough after each fault for the remote tier's probes (1 s after a failure, doubling while they
 * fail) to find Redis back on a loaded machine.
 *
 * What must hold after a fault that began at `faultAt`: no operation took longer than the command timeout allows
 * (plus a margin over the slowest op before the fault, the machine's own delays), every worker's bus came back
 * (before `until`) and its writes were taken again, and no read was stale.
 */
function expectHealed(expect: ExpectStatic, what: string, report: CheckReport, logs: WorkerLog[], faultAt: Instant, until?: Instant): void {
  const ops = logs.flatMap((log) => log.history.ops)
  const floor = ops.filter((op) => op.end < faultAt).reduce((most, op) => Math.max(most, ms(op.start, op.end)), 0)
  const slowest = ops.reduce((most, op) => Math.max(most, ms(op.start, op.end)), 0)
  const resyncs = logs.map((log) =>
    log.told.find(
      (told) =>
        told.t === 'event' &&
        told.type === 'bus' &&
        (told.state === 'resynced' || told.state === 'connected') &&
        told.at > faultAt &&
        (until === undefined || told.at < until),
    ),
  )
  console.log(
    `${what}: ${ops.length} ops, slowest ${slowest.toFixed(0)} ms (before the fault ${floor.toFixed(0)} ms); ${report.readsChecked} reads checked, ` +
      `${report.violations.length} violations, ${report.misses} misses, ${report.ambiguousWrites} ambiguous writes; ` +
      `bus back ${resyncs.map((told) => (told === undefined ? 'never' : `${ms(faultAt, told.at).toFixed(0)} ms`)).join(', ')} after it began; ` +
      `latency ms p50 ${report.latency.p50.toFixed(2)} p99 ${report.latency.p99.toFixed(2)} max ${report.latency.max.toFixed(0)}`,
  )
  expect(report.inconsistencies).toEqual([])
  expect(report.violations.slice(0, 5)).toEqual([])
  expect(slowest).toBeLessThan(COMMAND_TIMEOUT + 1500 + 2 * floor)
  logs.forEach((log, i) => {
    const back = resyncs[i]
    expect(back, `${log.history.name} logged no resync after the fault`).toBeDefined()
    const taken = log.history.ops.some((op) => op.op !== 'get' && op.error === undefined && op.start > (back?.at ?? 0n))
    expect(taken, `${log.history.name} had no write taken after its bus came back`).toBe(true)
  })
}

// Each run has its own Redis: they run side by side, which keeps the suite's time down.
describe.concurrent('coherence through faults (three instances, random ops, a private Redis)', () => {
  it('Redis restarted mid-run, empty: every instance resyncs with a gap; no stale read', async (context) => {
    const { expect } = context
    const { server, run } = await startRun('restart', context, { duration: 15_000 })
    const go = await run.go()
    await sleep(2500)
    await run.sealEpoch()
    const faultAt = process.hrtime.bigint()
    await server.shutdown()
    await sleep(200)
    await server.start()
    const { history, logs } = await run.finish()
    expect(history.epochs).toHaveLength(2)
    const report = checkHistory(history)
    expectHealed(expect, `restart (${ms(go, faultAt).toFixed(0)} ms in)`, report, logs, faultAt)
    for (const log of logs) expect(log.history.gaps.some((at) => at > faultAt)).toBe(true)
  }, 240_000)

  it("the instances' connections killed (CLIENT KILL TYPE normal): they reconnect and resync; no stale read", async (context) => {
    const { expect } = context
    const { client, run } = await startRun('kill', context)
    await run.go()
    await sleep(3500)
    const faultAt = process.hrtime.bigint()
    const killed = await client.sendCommand<number>(['CLIENT', 'KILL', 'TYPE', 'normal'])
    // Each worker's remote tier and bus: two connections at least.
    expect(killed).toBeGreaterThanOrEqual(6)
    const { history, logs } = await run.finish()
    expectHealed(expect, 'client kill', checkHistory(history), logs, faultAt)
  }, 240_000)

  it('a partition: traffic held past every timeout, then let through; then every connection dropped', async (context) => {
    const { expect } = context
    const { run, proxy } = await startRun('partition', context, { proxied: true, duration: 15_000 })
    await run.go()
    await sleep(2000)
    const heldAt = process.hrtime.bigint()
    proxy!.hold()
    // Past the bus's deadline (a blocking read of 1 s plus the command timeout), with room for a loaded machine's timers.
    await sleep(3500)
    proxy!.resume()
    await sleep(3500)
    const droppedAt = process.hrtime.bigint()
    proxy!.drop()
    const { history, logs } = await run.finish()
    const report = checkHistory(history)
    // Held, the bus's blocking read times out: each instance's bus resynced between the hold and the drop.
    expectHealed(expect, 'partition (hold, resume)', report, logs, heldAt, droppedAt)
    expectHealed(expect, 'partition (drop)', report, logs, droppedAt)
  }, 240_000)
})
