import { asyncScheduler } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { Invalidation } from '../../src/coherence/invalidation.js'
import { RedisStreamTransport, type RedisStreamTransportOptions } from '../../src/coherence/redis-stream-transport.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { connectClient, dropPrefix, redisUrl, startPrivateRedis, testPrefix } from '../helpers/redis.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'
import { watchTransport } from '../helpers/transport-watch.js'
import { VirtualClock } from '../helpers/virtual-time.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The reconnect backoff's first delay: a reader on a virtual clock tries again only when the test moves it this far. */
const FIRST_RETRY = 50

async function client(url = redisUrl()): Promise<RedisClient> {
  const connected = await connectClient(url)
  cleanups.push(async () => connected.destroy())
  return connected
}

function transport(
  on: RedisClient,
  origin: string,
  options: RedisStreamTransportOptions,
  scheduler = asyncScheduler as ConstructorParameters<typeof RedisStreamTransport>[3],
) {
  const made = new RedisStreamTransport(on, origin, options, scheduler)
  cleanups.push(() => made.close())
  return made
}

/** Closes the connection the transport of `origin` reads on, found by its name. */
async function killReader(admin: RedisClient, origin: string): Promise<void> {
  const list = await admin.sendCommand<string>(['CLIENT', 'LIST'])
  const line = list.split('\n').find((l) => l.includes(` name=strata-bus:${origin} `))
  const id = line?.match(/^id=(\d+)/)?.[1]
  if (id === undefined) throw new Error(`no reading connection named strata-bus:${origin}`)
  await admin.sendCommand(['CLIENT', 'KILL', 'ID', id])
}

const keys = (origin: string, i: number): Invalidation => ({ origin, version: i, keys: [`k${i}`] })

describe('RedisStreamTransport after a disconnect', () => {
  it('tells disconnected when its connection is killed, then replays exactly what was published meanwhile', async () => {
    const admin = await client()
    const prefix = testPrefix('kill')
    cleanups.push(() => dropPrefix(admin, prefix))
    const options = { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 }
    const clock = new VirtualClock()
    const reader = transport(admin, 'reader', options, clock)
    const writer = transport(admin, 'writer', options)
    await Promise.all([reader.open(), writer.open()])
    const watch = watchTransport(reader)
    await writer.publish(keys('writer', 0))
    await watch.until(() => watch.messages.length === 1, 'the first message')

    const disconnected = watch.next('disconnected')
    await killReader(admin, 'reader')
    await disconnected
    // The reader's clock stands still: it cannot be back before the test moves it.
    // More than two pages of the replay (512 each); one connection keeps the publish order.
    await Promise.all(Array.from({ length: 1100 }, (_, i) => writer.publish(keys('writer', i + 1))))
    await reader.publish(keys('reader', 99)) // its own: not replayed, not counted
    const resynced = watch.next('resynced')
    clock.advance(FIRST_RETRY)
    expect(await resynced).toEqual({ state: 'resynced', replayed: 1100, gap: false })
    expect(watch.messages).toEqual(Array.from({ length: 1101 }, (_, i) => keys('writer', i)))
    expect(watch.states.map((s) => s.state)).toEqual(['connected', 'disconnected', 'resynced'])

    // Live again, from where the replay ended.
    await writer.publish(keys('writer', 1101))
    await watch.until(() => watch.messages.length === 1102, 'a live message')
    expect(watch.messages.at(-1)).toEqual(keys('writer', 1101))
  })

  it('resyncs with a gap when the stream was trimmed past what it saw, and goes on from the stream end', async () => {
    const admin = await client()
    const prefix = testPrefix('trimmed')
    cleanups.push(() => dropPrefix(admin, prefix))
    const clock = new VirtualClock()
    const reader = transport(admin, 'reader', { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 }, clock)
    const writer = transport(admin, 'writer', { prefix, retention: 30, commandTimeout: 2000 })
    await Promise.all([reader.open(), writer.open()])
    const watch = watchTransport(reader)
    await writer.publish(keys('writer', 0))
    await watch.until(() => watch.messages.length === 1, 'the first message')

    const disconnected = watch.next('disconnected')
    await killReader(admin, 'reader')
    await disconnected
    // Trimming drops whole nodes of 100 entries: fill some, let them pass the retention, publish again.
    for (let i = 1; i <= 250; i++) await writer.publish(keys('writer', i))
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let i = 251; i <= 260; i++) await writer.publish(keys('writer', i))
    expect(await admin.sendCommand<number>(['XLEN', `${prefix}bus`])).toBeLessThan(261)

    const resynced = watch.next('resynced')
    clock.advance(FIRST_RETRY)
    expect(await resynced).toEqual({ state: 'resynced', replayed: 0, gap: true })
    expect(watch.messages).toHaveLength(1)
    await writer.publish(keys('writer', 261))
    await watch.until(() => watch.messages.length === 2, 'a live message')
    expect(watch.messages.at(-1)).toEqual(keys('writer', 261))
  })

  it('replays without a gap when trimming removed only entries it had seen', async () => {
    const admin = await client()
    const prefix = testPrefix('trimmed-seen')
    cleanups.push(() => dropPrefix(admin, prefix))
    const clock = new VirtualClock()
    const reader = transport(admin, 'reader', { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 }, clock)
    const writer = transport(admin, 'writer', { prefix, retention: 30, commandTimeout: 2000 })
    await Promise.all([reader.open(), writer.open()])
    const watch = watchTransport(reader)
    for (let i = 0; i < 250; i++) await writer.publish(keys('writer', i))
    await watch.until(() => watch.messages.length === 250, 'the first 250 messages')

    const disconnected = watch.next('disconnected')
    await killReader(admin, 'reader')
    await disconnected
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let i = 250; i < 260; i++) await writer.publish(keys('writer', i))
    expect(await admin.sendCommand<number>(['XLEN', `${prefix}bus`])).toBeLessThan(260)

    const resynced = watch.next('resynced')
    clock.advance(FIRST_RETRY)
    expect(await resynced).toEqual({ state: 'resynced', replayed: 10, gap: false })
    expect(watch.messages).toEqual(Array.from({ length: 260 }, (_, i) => keys('writer', i)))
  })

  it('resyncs with a gap after the server lost its data (SHUTDOWN NOSAVE, started again): the epoch changed', async () => {
    const redis = await startPrivateRedis()
    cleanups.push(() => redis.stop())
    const readerClient = await client(redis.url)
    const prefix = testPrefix('restart')
    const options = { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 }
    const clock = new VirtualClock()
    const reader = transport(readerClient, 'reader', options, clock)
    await reader.open()
    const watch = watchTransport(reader)
    const epoch = await readerClient.sendCommand<string>(['GET', `${prefix}epoch`])

    const disconnected = watch.next('disconnected')
    await redis.shutdown()
    await disconnected
    await redis.start()
    const writerClient = await client(redis.url)
    const writer = transport(writerClient, 'writer', options)
    await writer.publish(keys('writer', 1)) // before the reader is back: inside the gap

    const resynced = watch.next('resynced')
    clock.advance(FIRST_RETRY)
    expect(await resynced).toEqual({ state: 'resynced', replayed: 0, gap: true })
    expect(await writerClient.sendCommand<string>(['GET', `${prefix}epoch`])).not.toBe(epoch)
    await writer.publish(keys('writer', 2))
    await watch.until(() => watch.messages.length > 0, 'a live message')
    expect(watch.messages).toEqual([keys('writer', 2)])
  })

  it('tells disconnected within block + commandTimeout when a partition holds its traffic, and replays once it heals', async () => {
    const proxy = await startTcpProxy(redisUrl())
    cleanups.push(() => proxy.close())
    const direct = await client()
    const prefix = testPrefix('partition')
    cleanups.push(() => dropPrefix(direct, prefix))
    const block = 300
    const commandTimeout = 300
    const behindProxy = await client(proxy.url)
    const reader = transport(behindProxy, 'reader', { prefix, retention: 60_000, commandTimeout, block })
    const writer = transport(direct, 'writer', { prefix, retention: 60_000, commandTimeout: 2000 })
    await Promise.all([reader.open(), writer.open()])
    const watch = watchTransport(reader)
    await writer.publish(keys('writer', 0))
    await watch.until(() => watch.messages.length === 1, 'the first message')

    const disconnected = watch.next('disconnected')
    const held = performance.now()
    proxy.hold()
    await disconnected
    const noticed = performance.now() - held
    // A loaded machine delays timers: a margin of 2 s on top of the bound.
    expect(noticed).toBeLessThanOrEqual(block + commandTimeout + 2000)
    for (let i = 1; i <= 12; i++) await writer.publish(keys('writer', i))

    const resynced = watch.next('resynced')
    proxy.resume()
    expect(await resynced).toEqual({ state: 'resynced', replayed: 12, gap: false })
    expect(watch.messages).toEqual(Array.from({ length: 13 }, (_, i) => keys('writer', i)))
    console.log(`partition noticed after ${noticed.toFixed(0)} ms (block ${block} + commandTimeout ${commandTimeout})`)
  })
  it('comes back by itself after its connections are dropped', async () => {
    const proxy = await startTcpProxy(redisUrl())
    cleanups.push(() => proxy.close())
    const direct = await client()
    const prefix = testPrefix('dropped')
    cleanups.push(() => dropPrefix(direct, prefix))
    const reader = transport(await client(proxy.url), 'reader', { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 })
    const writer = transport(direct, 'writer', { prefix, retention: 60_000, commandTimeout: 2000 })
    await Promise.all([reader.open(), writer.open()])
    const watch = watchTransport(reader)
    const disconnected = watch.next('disconnected')
    const resynced = watch.next('resynced')
    proxy.drop()
    await disconnected
    expect(await resynced).toEqual({ state: 'resynced', replayed: 0, gap: false })
    await writer.publish(keys('writer', 1))
    await watch.until(() => watch.messages.some((m) => m.version === 1), 'a live message')
  })
})
