import { fileURLToPath } from 'node:url'
import { asyncScheduler } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { RemoteFlight } from '../../src/remote/remote-flight.js'
import { type Child, spawnScript } from '../helpers/child-process.js'
import { connectClient, dropPrefix, type PrivateRedis, redisUrl, startPrivateRedis, testPrefix } from '../helpers/redis.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/flight-child.ts', import.meta.url))
const clients: RedisClient[] = []
const flights: RemoteFlight[] = []
const children: Child[] = []
let prefix = ''
let server: PrivateRedis | undefined

afterEach(async () => {
  for (const child of children.splice(0)) if (child.proc.exitCode === null) child.proc.kill('SIGKILL')
  for (const flight of flights.splice(0)) await flight.close()
  if (clients[0] !== undefined) await dropPrefix(clients[0], prefix)
  for (const client of clients.splice(0)) await client.close()
  await server?.stop()
  server = undefined
})

async function flight(name: string, lockTtl = 10_000): Promise<{ flight: RemoteFlight; client: RedisClient }> {
  if (clients.length === 0) prefix = testPrefix(name)
  const client = await connectClient()
  clients.push(client)
  const made = new RemoteFlight(client, { prefix, lockTtl, commandTimeout: 5000 }, asyncScheduler)
  flights.push(made)
  return { flight: made, client }
}

/** Resolves with how long `promise` took, or 'pending' if it has not settled after `ms`. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> =>
  Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))])

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number

describe('RemoteFlight', () => {
  it('gives a key to one holder at a time, with a fence that grows', async () => {
    const { flight: a } = await flight('flight-lock')
    const { flight: b } = await flight('flight-lock')
    const first = await a.acquire('k')
    expect(first).toBeDefined()
    expect(await b.acquire('k')).toBeUndefined()
    expect(await a.acquire('k')).toBeUndefined()
    expect(await b.acquire('other')).toBeDefined()
    await first?.release()
    const second = await b.acquire('k')
    expect(second?.fence).toBeGreaterThan(first?.fence as number)
    expect(second?.token).not.toBe(first?.token)
  })

  // Four processes here; test/distributed/single-flight.test.ts races ten through the public API.
  it('lets four processes that miss the same keys together load each key once', async () => {
    prefix = testPrefix('flight-race')
    const admin = await connectClient()
    clients.push(admin)
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4']
    for (let i = 0; i < 4; i++) children.push(spawnScript(FIXTURE, ['race', redisUrl(), prefix, keys.join(','), '300']))
    await Promise.all(children.map((child) => child.waitFor(/^READY$/)))
    await admin.sendCommand(['RPUSH', `${prefix}go`, ...children.map(() => 'go')])
    await Promise.all(children.map((child) => child.waitFor(/^DONE$/)))
    expect(await Promise.all(children.map((child) => child.exited))).toEqual(children.map(() => 0)) // each exits by itself
    const lines = children.flatMap((child) => child.lines)
    for (const key of keys) {
      expect(
        lines.filter((line) => line.startsWith(`LOCK ${key} `)),
        key,
      ).toHaveLength(1)
      expect(
        lines.filter((line) => line === `GOT ${key}`),
        key,
      ).toHaveLength(3)
    }
    const fences = lines.filter((line) => line.startsWith('LOCK ')).map((line) => Number(line.split(' ')[2]))
    expect(new Set(fences).size).toBe(keys.length)
  }, 120_000)

  it('wakes a waiter within a few ms of the release, without polling', async () => {
    const { flight: holder, client } = await flight('flight-wake')
    const { flight: waiter } = await flight('flight-wake')
    const idle: number[] = []
    const latencies: number[] = []
    for (let i = 0; i < 40; i++) {
      const pinged = performance.now()
      await client.sendCommand(['PING'])
      idle.push(performance.now() - pinged)
      const lock = await holder.acquire(`k${i}`)
      let woken = 0
      const waiting = waiter.waitFor(`k${i}`, 20_000).then((released) => {
        woken = performance.now()
        return released
      })
      await new Promise((resolve) => setTimeout(resolve, 30)) // the waiter has looked at the lock and waits
      const released = performance.now()
      await lock?.release()
      expect(await waiting).toBe(true)
      latencies.push(woken - released)
    }
    latencies.sort((x, y) => x - y)
    idle.sort((x, y) => x - y)
    const floor = percentile(idle, 0.5)
    console.log(
      `flight wake-up after release: p50 ${percentile(latencies, 0.5).toFixed(2)} ms, p99 ${percentile(latencies, 0.99).toFixed(2)} ms (PING p50 ${floor.toFixed(2)} ms)`,
    )
    expect(percentile(latencies, 0.5)).toBeLessThan(20 + 10 * floor)
    expect(percentile(latencies, 0.99)).toBeLessThan(1000) // the lock lives 10 s and the wait 20 s: a wake-up this early is the release's
  }, 60_000)

  it('answers at once when the key is not held, or was released before the waiter looked', async () => {
    const { flight: a } = await flight('flight-free')
    const { flight: b } = await flight('flight-free')
    expect(await within(b.waitFor('never-held', 20_000), 2000)).toBe(true)
    const lock = await a.acquire('k')
    await lock?.release()
    expect(await within(b.waitFor('k', 20_000), 2000)).toBe(true)
  })

  it('frees waiters when the holder dies: at the lock expiry, or at their own timeout if sooner', async () => {
    const lockTtl = 1500
    const { flight: waiter } = await flight('flight-dead')
    const child = spawnScript(FIXTURE, ['hold', redisUrl(), prefix, 'k', String(lockTtl)])
    children.push(child)
    await child.waitFor(/^LOCKED \d+$/)
    const locked = performance.now()
    const long = waiter.waitFor('k', 30_000).then((released) => ({ released, after: performance.now() - locked }))
    const short = waiter.waitFor('k', 300).then((released) => ({ released, after: performance.now() - locked }))
    child.proc.kill('SIGKILL')
    const [longDone, shortDone] = await Promise.all([long, short])
    expect(shortDone.released).toBe(false)
    expect(shortDone.after).toBeLessThan(lockTtl)
    expect(longDone.released).toBe(false)
    expect(longDone.after).toBeGreaterThanOrEqual(lockTtl - 200) // the lock's life, less the time until LOCKED was read
    expect(longDone.after).toBeLessThan(lockTtl + 3000)
  }, 60_000)

  it("does not let a stale holder's release free the next holder's lock", async () => {
    const { flight: stale } = await flight('flight-stale', 200)
    const { flight: next, client } = await flight('flight-stale')
    const { flight: waiter } = await flight('flight-stale')
    const old = await stale.acquire('k')
    await new Promise((resolve) => setTimeout(resolve, 400)) // its lock expired
    const current = await next.acquire('k')
    expect(current?.fence).toBeGreaterThan(old?.fence as number)
    const waiting = waiter.waitFor('k', 20_000)
    await old?.release()
    expect(await client.sendCommand(['GET', `${prefix}lock:k`])).toBe(current?.token)
    expect(await within(waiting, 300)).toBe('pending')
    await current?.release()
    expect(await within(waiting, 5000)).toBe(true)
  })

  it('wakes its waiters with false on close and leaves no subscription', async () => {
    const { flight: holder, client } = await flight('flight-close')
    const { flight: waiter } = await flight('flight-close')
    await holder.acquire('k')
    const subscribers = async (): Promise<unknown> => (await client.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', `${prefix}flight`]))[1]
    const until = async (count: number): Promise<void> => {
      for (let i = 0; i < 250 && (await subscribers()) !== count; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const waiting = waiter.waitFor('k', 20_000)
    await until(1)
    expect(await subscribers()).toBe(1)
    await waiter.close()
    expect(await within(waiting, 1000)).toBe(false)
    await until(0) // the server drops the subscription when it sees the connection close
    expect(await subscribers()).toBe(0)
    expect(await waiter.waitFor('k', 20_000)).toBe(false)
  })

  it('gives up within its command timeout when Redis stops answering', async () => {
    server = await startPrivateRedis()
    const client = await connectClient(server.url)
    const admin = await connectClient(server.url)
    const timeout = 300
    const waiter = new RemoteFlight(client, { prefix: testPrefix('flight-paused'), lockTtl: 10_000, commandTimeout: timeout }, asyncScheduler)
    await admin.sendCommand(['CLIENT', 'PAUSE', '3000', 'ALL'])
    const started = performance.now()
    expect(await waiter.waitFor('k', 20_000)).toBe(false)
    expect(performance.now() - started).toBeLessThan(timeout + 1500) // the pause lasts 3 s, the wait 20 s
    await waiter.close()
    admin.destroy()
    client.destroy()
  })
})
