import { afterEach, describe, expect, it } from 'vitest'
import { decodeInvalidation, type Invalidation } from '../../src/coherence/invalidation.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { RemoteStore } from '../../src/remote/remote-store.js'
import { countingClient, type StoreFixture, storeFixture } from './store-setup.js'

let fixture: StoreFixture | undefined
afterEach(async () => {
  await fixture?.done()
  fixture = undefined
})

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)
const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function messages(client: RedisClient, prefix: string): Promise<Invalidation[]> {
  const entries = await client.sendCommand<[string, string[]][]>(['XRANGE', `${prefix}bus`, '-', '+'])
  return entries.map(([, fields]) => decodeInvalidation(fields) as Invalidation)
}

async function keysUnder(client: RedisClient, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, page] = await client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])
    cursor = next
    keys.push(...page)
  } while (cursor !== '0')
  return keys.map((key) => key.slice(prefix.length)).sort()
}

/** The test's store on a prefix of its own, closed and removed after it. */
async function useFixture(name: string, options?: Parameters<typeof storeFixture>[1]): Promise<StoreFixture> {
  fixture = await storeFixture(name, options)
  return fixture
}

/** A store on the fixture's prefix whose client counts the commands it sends. */
function countedStore(client: RedisClient, prefix: string): { store: RemoteStore; sent: string[] } {
  const counting = countingClient(client)
  return { store: new RemoteStore(counting.client, { prefix, commandTimeout: 5000, retention: 60_000, tombstoneTtl: 60_000 }), sent: counting.sent }
}

/** Writes 250 values with `ttl`, waits past a retention of 200 ms, then writes the one that trims. */
async function writePastRetention(store: RemoteStore, ttl: number): Promise<void> {
  for (let i = 0; i < 250; i++) await store.set(`k${i}`, text('v'), ttl, [], 'o')
  await sleep(400)
  await store.set('last', text('v'), ttl, [], 'o')
}

describe('RemoteStore', () => {
  it('keeps values binary, with their version, time left and tags', async () => {
    const { store } = await useFixture('store-values')
    const value = bytes(0, 255, 0xc3, 0x28, 10, 0)
    const version = await store.set('k\u00e9', value, 0, ['t1', 'tag:2'], 'a')
    await store.set('timed', text('x'), 60_000, [], 'a')
    const [got, timed, missing] = await store.getMany(['k\u00e9', 'timed', 'none'])
    expect(got).toEqual({ bytes: Buffer.from(value), version, ttl: 0, tags: ['t1', 'tag:2'] })
    expect(timed?.ttl).toBeGreaterThan(50_000)
    expect(timed?.ttl).toBeLessThanOrEqual(60_000)
    expect(missing).toBeUndefined()
    expect(await store.get('none')).toBeUndefined()
  })

  it('lets a value expire after its TTL', async () => {
    const { store } = await useFixture('store-ttl')
    await store.set('k', text('v'), 150, [], 'a')
    expect((await store.get('k'))?.bytes).toEqual(Buffer.from('v'))
    await sleep(300)
    expect(await store.get('k')).toBeUndefined()
  })

  it('gives every write a version above the last, and version() the latest', async () => {
    const { store, open } = await useFixture('store-versions')
    expect(await store.version()).toBe(0)
    const versions = [
      await store.set('a', text('1'), 0, ['t'], 'o'),
      await store.setMany([{ key: 'b', bytes: text('2'), ttl: 0, tags: [] }], 'o'),
      (await store.delete('a', 'o')).version,
      await store.deleteMany(['b', 'c'], 'o').then(({ existed, version }) => {
        expect(existed).toBe(1) // 'c' had no value
        return version
      }),
      (await store.deleteTag('t', 'o')).version,
      (await store.fill('d', text('4'), 0, [], await store.version(), 'o')) as number,
      await store.clear('o'),
    ]
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1] as number)
    expect(await store.version()).toBe(versions.at(-1))
    // another instance's writes share the counter
    const other = await open()
    expect(await other.set('e', text('5'), 0, [], 'p')).toBe((versions.at(-1) as number) + 1)
  })

  it('appends one message per write to the stream, with the write version', async () => {
    const { store, client, prefix } = await useFixture('store-stream')
    const v1 = await store.set('a', text('1'), 0, ['t'], 'one')
    const v2 = await store.setMany(
      [
        { key: 'b', bytes: text('2'), ttl: 0, tags: ['t'] },
        { key: 'c', bytes: text('3'), ttl: 0, tags: [] },
      ],
      'two',
    )
    const v3 = (await store.deleteMany(['c', 'nothing'], 'one')).version
    const v4 = (await store.deleteTag('t', 'two')).version
    const v5 = (await store.fill('f', text('6'), 0, [], v4, 'one')) as number
    const v6 = await store.clear('two')
    const sorted = (await messages(client, prefix)).map((m) => (m.keys === undefined ? m : { ...m, keys: [...m.keys].sort() }))
    expect(sorted).toEqual([
      { origin: 'one', version: v1, keys: ['a'] },
      { origin: 'two', version: v2, keys: ['b', 'c'] },
      { origin: 'one', version: v3, keys: ['c', 'nothing'] },
      { origin: 'two', version: v4, keys: ['a', 'b'] },
      { origin: 'one', version: v5, keys: ['f'] },
      { origin: 'two', version: v6, all: true },
    ])
  })

  it('trims the stream to the retention as writes come', async () => {
    const { store, client, prefix } = await useFixture('store-retention', { retention: 200 })
    await writePastRetention(store, 0)
    // `MINID ~` drops whole stream nodes (100 entries each): at most the last node's old entries stay
    expect(await client.sendCommand<number>(['XLEN', `${prefix}bus`])).toBeLessThanOrEqual(101)
  })

  it('trims the stream to the retention by the clock too, when a write with a TTL read it', async () => {
    const { store, client, prefix } = await useFixture('store-retention-ttl', { retention: 200 })
    await writePastRetention(store, 60_000)
    expect(await client.sendCommand<number>(['XLEN', `${prefix}bus`])).toBeLessThanOrEqual(101)
  })

  it('gives a value set over an expiring record the expiry of its own set, or none', async () => {
    const { store, client, prefix } = await useFixture('store-overwrite', { tombstoneTtl: 60_000 })
    const pttl = (key: string) => client.sendCommand<number>(['PTTL', `${prefix}g:0:r:${key}`])
    await store.set('timed', text('1'), 150, ['a'], 'o')
    await store.set('timed', text('2'), 0, [], 'o')
    await store.delete('gone', 'o')
    expect(await pttl('gone')).toBeGreaterThan(0) // a tombstone expires
    await store.set('gone', text('3'), 0, [], 'o')
    await store.set('later', text('4'), 0, ['b'], 'o')
    await store.set('later', text('5'), 150, ['b'], 'o')
    await sleep(300)
    expect(await store.get('timed')).toEqual({ bytes: Buffer.from('2'), version: expect.any(Number), ttl: 0, tags: [] })
    expect(await pttl('timed')).toBe(-1)
    expect(await store.get('gone')).toMatchObject({ bytes: Buffer.from('3'), ttl: 0 })
    expect(await pttl('gone')).toBe(-1)
    expect(await store.get('later')).toBeUndefined()
    expect((await store.deleteTag('a', 'o')).keys).toEqual([])
  })

  it('refuses a fill after a newer set or delete, and accepts one once the tombstone expired', async () => {
    const { store } = await useFixture('store-fill', { tombstoneTtl: 300 })
    const before = await store.version()
    await store.set('set', text('new'), 0, [], 'writer')
    await store.delete('set', 'writer')
    expect(await store.fill('set', text('old'), 0, [], before, 'loader')).toBeUndefined()

    const sinceDelete = await store.version()
    await store.set('present', text('v'), 0, [], 'writer')
    expect(await store.fill('present', text('loaded'), 0, [], await store.version(), 'loader')).toBeUndefined()
    expect((await store.get('present'))?.bytes).toEqual(Buffer.from('v'))

    // a load that began after the delete stores its value
    const filled = await store.fill('set', text('fresh'), 0, ['t'], sinceDelete, 'loader')
    expect(filled).toBe(await store.version())
    expect(await store.get('set')).toEqual({ bytes: Buffer.from('fresh'), version: filled, ttl: 0, tags: ['t'] })

    const early = await store.version()
    await store.delete('gone', 'writer')
    expect(await store.fill('gone', text('old'), 0, [], early, 'loader')).toBeUndefined()
    await sleep(500)
    expect(await store.fill('gone', text('old'), 0, [], early, 'loader')).toBeGreaterThan(early)
  })

  it('refuses a fill that began before a set whose value expired since', async () => {
    const { store } = await useFixture('store-fill-expired', { tombstoneTtl: 60_000 })
    const before = await store.version()
    await store.set('k', text('new'), 100, [], 'writer')
    await sleep(250)
    expect(await store.get('k')).toBeUndefined()
    expect(await store.fill('k', text('old'), 0, [], before, 'loader')).toBeUndefined()
  })

  it('moves a key re-set with other tags out of its old tags, and deleteTag deletes the keys it has now', async () => {
    const { store } = await useFixture('store-tags')
    await store.set('k1', text('1'), 0, ['a', 'b'], 'o')
    await store.set('k2', text('2'), 0, ['a'], 'o')
    await store.setMany([{ key: 'k1', bytes: text('1b'), ttl: 0, tags: ['c'] }], 'o')
    const a = await store.deleteTag('a', 'o')
    expect(a.keys).toEqual(['k2'])
    expect(await store.get('k2')).toBeUndefined()
    expect((await store.get('k1'))?.tags).toEqual(['c'])
    expect((await store.deleteTag('b', 'o')).keys).toEqual([])
    expect((await store.deleteTag('c', 'o')).keys).toEqual(['k1'])
    expect(await store.get('k1')).toBeUndefined()
  })

  it('takes a deleted key out of its tags', async () => {
    const { store } = await useFixture('store-tag-delete')
    await store.set('k', text('1'), 0, ['a'], 'o')
    expect(await store.delete('k', 'o')).toMatchObject({ existed: true })
    expect(await store.delete('k', 'o')).toMatchObject({ existed: false })
    expect((await store.fill('k', text('2'), 0, [], await store.version(), 'o')) !== undefined).toBe(true)
    expect((await store.deleteTag('a', 'o')).keys).toEqual([])
    expect((await store.get('k'))?.bytes).toEqual(Buffer.from('2'))
  })

  it('clears every value at once by generation, refuses fills from before, and reclaims the old keys', async () => {
    const { store, client, prefix, open } = await useFixture('store-clear')
    const entries = Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, bytes: text(String(i)), ttl: 0, tags: [`t${i % 3}`] }))
    await store.setMany(entries, 'o')
    await store.delete('k0', 'o')
    const before = await store.version()
    const other = await open()
    const { store: clearing, sent } = countedStore(client, prefix)
    const version = await clearing.clear('o')
    expect(sent[0]).toBe('EVALSHA')
    expect(sent.filter((name) => name === 'SCAN').length).toBeGreaterThan(1) // in slices, not one sweep
    expect((await other.getMany(['k1', 'k2', 'k599'])).every((v) => v === undefined)).toBe(true)
    expect((await other.deleteTag('t1', 'o')).keys).toEqual([])
    expect(await other.fill('k1', text('old'), 0, [], before, 'loader')).toBeUndefined()
    expect(await keysUnder(client, prefix)).toEqual(['bus', 'epoch', 'gen', 'version'])
    await other.set('k1', text('after'), 0, [], 'o')
    expect(await other.get('k1')).toMatchObject({ bytes: Buffer.from('after') })
    expect(await client.sendCommand(['GET', `${prefix}gen`])).toBe(String(version))
  })

  it('reads many keys in one round trip', async () => {
    const { store, client, prefix } = await useFixture('store-get-many')
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
    await store.setMany(
      keys.filter((_, i) => i % 2 === 0).map((key) => ({ key, bytes: text(key), ttl: 0, tags: [] })),
      'o',
    )
    const { store: reader, sent } = countedStore(client, prefix)
    const values = await reader.getMany(keys)
    expect(sent).toEqual(['EVALSHA'])
    expect(values.map((v) => (v === undefined ? undefined : Buffer.from(v.bytes).toString()))).toEqual(keys.map((k, i) => (i % 2 === 0 ? k : undefined)))
  })

  it('sets its epoch once: every store on the prefix reads the same', async () => {
    const { store, client, prefix, open } = await useFixture('store-epoch')
    const first = await store.epoch()
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(await (await open()).epoch()).toBe(first)
    await client.sendCommand(['DEL', `${prefix}epoch`]) // as a Redis that lost its data
    const next = await store.epoch()
    expect(next).not.toBe(first)
    expect(next).toMatch(/^[0-9a-f-]{36}$/)
    expect(await (await open()).epoch()).toBe(next)
  })
})
