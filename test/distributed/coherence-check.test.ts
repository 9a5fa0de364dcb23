import { afterEach, expect, it } from 'vitest'
import { connectClient, dropPrefix, redisUrl, testPrefix } from '../helpers/redis.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { CoherenceRun } from './coherence-run.js'
import { checkHistory } from './history-check.js'

const DURATION = Number(process.env.COHERENCE_RUN_MS ?? 30_000)
const newDir = tempDirs('strata-coherence-')
let cleanup: (() => Promise<void>) | undefined
afterEach(async () => {
  await cleanup?.()
  cleanup = undefined
})

it(
  `three instances doing random reads and writes on shared keys for ${DURATION / 1000} s: no read older than an invalidation its instance had received`,
  async () => {
    const client = await connectClient()
    const prefix = testPrefix('coherence')
    const run = new CoherenceRun({ url: redisUrl(), client, prefix, workers: 3, duration: DURATION, commandTimeout: 1000, dir: await newDir() })
    cleanup = async () => {
      run.kill()
      await dropPrefix(client, prefix)
      await client.close()
    }
    await run.start()
    await run.go()
    const { history, logs } = await run.finish()
    const report = checkHistory(history)
    const degraded = logs.some((log) => log.told.some((told) => told.type === 'degraded'))
    const ops = history.workers.reduce((n, w) => n + w.ops.length, 0)
    console.log(
      `coherence: ${ops} ops, ${report.readsChecked} reads checked, ${report.violations.length} violations, ${report.misses} misses, ` +
        `${report.ambiguousWrites} ambiguous writes; invalidation latency (receive − writer's ack, ms) over ${report.latency.count}: ` +
        `p50 ${report.latency.p50.toFixed(3)}, p99 ${report.latency.p99.toFixed(3)}, max ${report.latency.max.toFixed(3)}${degraded ? ' (a worker degraded)' : ''}`,
    )
    expect(report.inconsistencies).toEqual([])
    expect(report.violations.slice(0, 5)).toEqual([])
    // Every value stays in Redis (no TTL, no eviction there): a read finds nothing only after a delete, unless a call failed.
    if (!degraded) expect(report.misses).toBe(0)
    expect(report.readsChecked).toBeGreaterThan(1000)
    expect(report.latency.count).toBeGreaterThan(1000)
    // Generous for a loaded machine; the target on an idle loopback is 5 ms.
    expect(report.latency.p99).toBeLessThan(250)
  },
  DURATION + 60_000,
)

it('catches instances that receive invalidations but never apply them', async () => {
  const client = await connectClient()
  const prefix = testPrefix('coherence-deaf')
  const run = new CoherenceRun({ url: redisUrl(), client, prefix, workers: 2, duration: 4000, commandTimeout: 1000, dir: await newDir(), mode: 'deaf' })
  cleanup = async () => {
    run.kill()
    await dropPrefix(client, prefix)
    await client.close()
  }
  await run.start()
  await run.go()
  const { history } = await run.finish()
  const report = checkHistory(history)
  console.log(`deaf instances: ${report.readsChecked} reads checked, ${report.violations.length} stale`)
  expect(report.inconsistencies).toEqual([])
  expect(report.violations.length).toBeGreaterThan(0)
  expect(new Set(report.violations.map((v) => v.kind))).toEqual(new Set(['stale']))
}, 180_000)
