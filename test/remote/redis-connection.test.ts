import { fileURLToPath } from 'node:url'
import { createClient } from 'redis'
import { afterEach, describe, expect, it } from 'vitest'
import { isCacheError } from '../../src/errors.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { closeRedis, openRedis } from '../../src/remote/redis-connection.js'
import { spawnScript } from '../helpers/child-process.js'
import { connectClient, freePort, type PrivateRedis, redisUrl, startPrivateRedis } from '../helpers/redis.js'

const opened: RedisClient[] = []
let server: PrivateRedis | undefined
afterEach(async () => {
  for (const client of opened.splice(0)) if (client.isOpen) client.destroy()
  await server?.stop()
  server = undefined
})

const codeOf = (error: unknown): string | undefined => (isCacheError(error) ? error.code : String(error))

describe('openRedis', () => {
  it('opens a URL with a client of its own, and closeRedis closes it', async () => {
    const connection = await openRedis(redisUrl())
    opened.push(connection.client)
    expect(connection.owned).toBe(true)
    expect(await connection.client.sendCommand(['PING'])).toBe('PONG')
    await closeRedis(connection)
    expect(connection.client.isOpen).toBe(false)
  })

  it('uses a given client as it is and leaves it open', async () => {
    const client = await connectClient()
    opened.push(client)
    const connection = await openRedis(client)
    expect(connection).toEqual({ client, owned: false })
    await closeRedis(connection)
    expect(client.isOpen).toBe(true)
    expect(await client.sendCommand(['PING'])).toBe('PONG')
  })

  it('connects a given client that is not open yet', async () => {
    const client = createClient({ url: redisUrl() }) as unknown as RedisClient
    opened.push(client)
    const connection = await openRedis(client)
    expect(connection.owned).toBe(false)
    expect(client.isReady).toBe(true)
  })

  it('rejects a string that is not a Redis URL with E_INVALID_OPTIONS', async () => {
    for (const url of ['not a url', 'http://127.0.0.1:6379']) {
      const error = await openRedis(url).catch((e: unknown) => e)
      expect(codeOf(error)).toBe('E_INVALID_OPTIONS')
    }
  })

  it('rejects with E_REMOTE when nothing answers at the URL, rather than retrying forever', async () => {
    const port = await freePort()
    const started = performance.now()
    const error = await openRedis(`redis://127.0.0.1:${port}`).catch((e: unknown) => e)
    expect(codeOf(error)).toBe('E_REMOTE')
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it("rejects with E_INVALID_OPTIONS naming the package when 'redis' is not installed", async () => {
    const child = spawnScript(fileURLToPath(new URL('./fixtures/open-without-redis.ts', import.meta.url)), [redisUrl()])
    const line = await child.waitFor(/./)
    expect(await child.exited).toBe(0)
    expect(line).toMatch(/^E_INVALID_OPTIONS .*npm install redis/)
  })

  it('fails commands at once while Redis is down, and uses it again once it is back', async () => {
    server = await startPrivateRedis()
    const connection = await openRedis(server.url)
    opened.push(connection.client)
    await server.shutdown()
    const started = performance.now()
    const error = await connection.client.sendCommand(['PING'], { timeout: 10_000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(performance.now() - started).toBeLessThan(1000) // not queued until the 10 s deadline
    await server.start()
    const back = performance.now()
    let reply: unknown
    while (reply !== 'PONG' && performance.now() - back < 10_000) {
      reply = await connection.client.sendCommand(['PING']).catch(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
    expect(reply).toBe('PONG')
    await closeRedis(connection)
  })
})
