import { asyncScheduler } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { Invalidation } from '../../src/coherence/invalidation.js'
import { RedisStreamTransport, type RedisStreamTransportOptions } from '../../src/coherence/redis-stream-transport.js'
import { isCacheError } from '../../src/errors.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { connectClient, dropPrefix, freePort, redisUrl, testPrefix } from '../helpers/redis.js'
import { startTcpProxy } from '../helpers/tcp-proxy.js'
import { watchTransport } from '../helpers/transport-watch.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(name: string): Promise<{ client: RedisClient; options: RedisStreamTransportOptions }> {
  const client = await connectClient()
  const prefix = testPrefix(name)
  cleanups.push(async () => {
    await dropPrefix(client, prefix)
    await client.close()
  })
  return { client, options: { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 } }
}

async function opened(client: RedisClient, origin: string, options: RedisStreamTransportOptions): Promise<RedisStreamTransport> {
  const transport = new RedisStreamTransport(client, origin, options, asyncScheduler)
  cleanups.push(() => transport.close())
  await transport.open()
  return transport
}

const keys = (origin: string, i: number): Invalidation => ({ origin, version: i, keys: [`k${i}`] })

describe('RedisStreamTransport', () => {
  it('delivers the messages of other origins in publish order, and skips its own', async () => {
    const { client, options } = await setup('order')
    const a = await opened(client, 'a', options)
    const b = await opened(client, 'b', options)
    const atA = watchTransport(a)
    const atB = watchTransport(b)
    const fromA: Invalidation[] = []
    for (let i = 0; i < 60; i++) {
      const message: Invalidation =
        i % 3 === 0 ? { origin: 'a', version: i, tag: `t${i}` } : i % 3 === 1 ? keys('a', i) : { origin: 'a', version: i, all: true }
      fromA.push(message)
      await Promise.all([a.publish(message), b.publish(keys('b', i))])
    }
    await atB.until(() => atB.messages.length >= 60, '60 messages at b')
    await atA.until(() => atA.messages.length >= 60, '60 messages at a')
    expect(atB.messages).toEqual(fromA)
    expect(atA.messages).toEqual(Array.from({ length: 60 }, (_, i) => keys('b', i)))
    // Nothing more: neither sees its own.
    await b.publish(keys('b', 999))
    await a.publish(keys('a', 1000))
    await atB.until(() => atB.messages.length === 61, 'the last message at b')
    expect(atA.messages.some((m) => m.origin === 'a')).toBe(false)
    expect(atB.messages.at(-1)).toEqual(keys('a', 1000))
  })

  it('starts from the stream end: what was published before open is not delivered', async () => {
    const { client, options } = await setup('from-now')
    const a = await opened(client, 'a', options)
    await a.publish(keys('a', 1))
    const b = await opened(client, 'b', options)
    const atB = watchTransport(b)
    expect(atB.states).toEqual([{ state: 'connected' }])
    await a.publish(keys('a', 2))
    await atB.until(() => atB.messages.length > 0, 'a message')
    expect(atB.messages).toEqual([keys('a', 2)])
  })

  it('skips entries of the stream that are not messages', async () => {
    const { client, options } = await setup('foreign')
    const a = await opened(client, 'a', options)
    const b = await opened(client, 'b', options)
    const atB = watchTransport(b)
    await client.sendCommand(['XADD', `${options.prefix}bus`, '*', 'x', 'y'])
    await client.sendCommand(['XADD', `${options.prefix}bus`, '*', 'o', 'a', 'v', '3', 'k', '{not json'])
    await a.publish(keys('a', 4))
    await atB.until(() => atB.messages.length > 0, 'a message')
    expect(atB.messages).toEqual([keys('a', 4)])
  })

  it('publishes with the MINID trim of its retention', async () => {
    const { client, options } = await setup('trim')
    const a = await opened(client, 'a', { ...options, retention: 30 })
    // Approximate trimming drops whole nodes of 100 entries: fill two, let them age, add more.
    for (let i = 0; i < 250; i++) await a.publish(keys('a', i))
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let i = 0; i < 10; i++) await a.publish(keys('a', i))
    const length = await client.sendCommand<number>(['XLEN', `${options.prefix}bus`])
    expect(length).toBeLessThan(260)
  })

  it('rejects open with E_REMOTE when Redis is not there, and publish with E_CLOSED once closed', async () => {
    const { client, options } = await setup('down')
    const port = await freePort()
    const gone = new RedisStreamTransport(await unreachable(port), 'a', { ...options, commandTimeout: 300 }, asyncScheduler)
    const error = await gone.open().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isCacheError(error, 'E_REMOTE')).toBe(true)
    const a = await opened(client, 'a', options)
    await a.close()
    await expect(a.publish(keys('a', 1))).rejects.toSatisfy((e: unknown) => isCacheError(e, 'E_CLOSED'))
  })

  it('rejects a publish that Redis does not answer within commandTimeout with E_REMOTE', async () => {
    const { options } = await setup('publish-timeout')
    const proxy = await startTcpProxy(redisUrl())
    cleanups.push(() => proxy.close())
    const viaProxy = await connectClient(proxy.url)
    cleanups.push(async () => viaProxy.destroy())
    const a = new RedisStreamTransport(viaProxy, 'a', { ...options, commandTimeout: 200 }, asyncScheduler)
    cleanups.push(() => a.close())
    await a.publish(keys('a', 1))
    proxy.hold()
    const started = performance.now()
    await expect(a.publish(keys('a', 2))).rejects.toSatisfy((e: unknown) => isCacheError(e, 'E_REMOTE'))
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
  })
})

/** A client of the same kind as the tests' own whose server is not there (nothing listens on `port`). */
async function unreachable(port: number): Promise<RedisClient> {
  const { createClient } = await import('redis')
  const client = createClient({ url: `redis://127.0.0.1:${port}` })
  client.on('error', () => undefined)
  return client as unknown as RedisClient
}
