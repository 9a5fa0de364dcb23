import { afterEach, describe, expect, it } from 'vitest'
import { isCacheError } from '../../src/errors.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { connectClient, type PrivateRedis, startPrivateRedis } from '../helpers/redis.js'
import { type StoreFixture, storeFixture } from './store-setup.js'

let server: PrivateRedis | undefined
let fixture: StoreFixture | undefined
const clients: RedisClient[] = []
afterEach(async () => {
  await fixture?.done()
  fixture = undefined
  for (const client of clients.splice(0)) client.destroy()
  await server?.stop()
  server = undefined
})

const text = (value: string): Uint8Array => new TextEncoder().encode(value)

describe('RemoteStore against a failing Redis', () => {
  it('rejects every call with E_REMOTE within its command timeout when Redis stops answering', async () => {
    server = await startPrivateRedis()
    const timeout = 300
    fixture = await storeFixture('faults-timeout', { commandTimeout: timeout }, server.url)
    const { store } = fixture
    await store.set('k', text('v'), 0, [], 'o')
    const idle = performance.now()
    await store.get('k')
    const floor = performance.now() - idle
    const admin = await connectClient(server.url)
    clients.push(admin)
    await admin.sendCommand(['CLIENT', 'PAUSE', '2500', 'ALL']) // the server answers nobody (this client neither) for 2.5 s
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => store.get('k')],
      ['set', () => store.set('k', text('w'), 0, [], 'o')],
      ['fill', () => store.fill('f', text('w'), 0, [], 0, 'o')],
      ['version', () => store.version()],
      ['ping', () => store.ping()],
    ]
    for (const [name, call] of calls) {
      const started = performance.now()
      const error = await call().catch((e: unknown) => e)
      const took = performance.now() - started
      expect(isCacheError(error, 'E_REMOTE'), `${name}: ${String(error)}`).toBe(true)
      expect(took, name).toBeGreaterThanOrEqual(timeout - 5)
      expect(took, name).toBeLessThan(timeout + 1000 + 10 * floor)
    }
    await admin.sendCommand(['PING']) // answered when the pause ends
    // once it answers again, the timed-out commands' replies are discarded: later calls get their own
    // (the timed-out set may have run: it was sent)
    const value = await store.get('k')
    expect(['v', 'w']).toContain(Buffer.from(value?.bytes ?? []).toString())
    expect(await store.version()).toBeGreaterThanOrEqual(value?.version ?? Number.POSITIVE_INFINITY)
  })

  it('runs its scripts on a Redis that forgot them', async () => {
    server = await startPrivateRedis()
    fixture = await storeFixture('faults-noscript', {}, server.url)
    const { store, client } = fixture
    await client.sendCommand(['SCRIPT', 'FLUSH'])
    const version = await store.set('k', text('v'), 0, [], 'o')
    expect(await store.get('k')).toMatchObject({ version })
  })

  it('gives a Redis restarted empty a new epoch', async () => {
    server = await startPrivateRedis()
    fixture = await storeFixture('faults-epoch', {}, server.url)
    const before = await fixture.store.epoch()
    await fixture.store.set('k', text('v'), 0, [], 'o')
    await server.shutdown()
    await server.start()
    let epoch: string | undefined
    for (let i = 0; epoch === undefined && i < 200; i++) {
      epoch = await fixture.store.epoch().catch(() => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 25)))
    }
    expect(epoch).toBeDefined()
    expect(epoch).not.toBe(before)
    expect(await fixture.store.get('k')).toBeUndefined()
    expect(await fixture.store.version()).toBe(0)
  })
})
