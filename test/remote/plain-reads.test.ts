import { afterEach, describe, expect, it } from 'vitest'
import { KnownGeneration } from '../../src/remote/known-generation.js'
import { RemoteStore } from '../../src/remote/remote-store.js'
import { countingClient, type StoreFixture, storeFixture } from './store-setup.js'

let fixture: StoreFixture | undefined
afterEach(async () => {
  await fixture?.done()
  fixture = undefined
})

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A store whose generation a connected bus keeps (told nothing unless the test tells it), and the commands it sends. */
async function following(name: string): Promise<{ store: RemoteStore; generation: KnownGeneration; sent: string[] }> {
  fixture = await storeFixture(name)
  const { client, sent } = countingClient(fixture.client)
  const generation = new KnownGeneration()
  generation.connected()
  const store = new RemoteStore(client, { prefix: fixture.prefix, commandTimeout: 5000, retention: 60_000, tombstoneTtl: 60_000 }, generation)
  await store.open()
  return { store, generation, sent }
}

/** The commands `run` sends. */
async function sentBy(sent: string[], run: () => Promise<unknown>): Promise<string[]> {
  sent.length = 0
  await run()
  return [...sent]
}

describe('RemoteStore reads under a known generation', () => {
  it('reads a value with one plain HMGET once a script said the generation, and finds what the script finds', async () => {
    const { store, sent } = await following('plain-read')
    const version = await store.set('k', text('v'), 0, ['t'], 'a')
    expect(await sentBy(sent, () => store.get('k'))).toEqual(['HMGET'])
    expect(await store.get('k')).toEqual({ bytes: Buffer.from('v'), version, ttl: 0, tags: ['t'] })
    expect(await store.get('none')).toBeUndefined()
    await store.delete('k', 'a')
    // A tombstone has a version and no bytes: no value.
    expect(await store.get('k')).toBeUndefined()
  })

  it('runs the script while the generation is unknown: no bus, or a bus that is down', async () => {
    fixture = await storeFixture('plain-unknown')
    const { client, sent } = countingClient(fixture.client)
    const alone = new RemoteStore(client, { prefix: fixture.prefix, commandTimeout: 5000, retention: 60_000, tombstoneTtl: 60_000 })
    await alone.open()
    await alone.set('k', text('v'), 0, [], 'a')
    expect(await sentBy(sent, () => alone.get('k'))).toEqual(['EVALSHA'])

    const generation = new KnownGeneration()
    generation.connected()
    const store = new RemoteStore(client, { prefix: fixture.prefix, commandTimeout: 5000, retention: 60_000, tombstoneTtl: 60_000 }, generation)
    await store.get('k')
    expect(await sentBy(sent, () => store.get('k'))).toEqual(['HMGET'])
    generation.disconnected()
    expect(await sentBy(sent, () => store.get('k'))).toEqual(['EVALSHA'])
    expect(await sentBy(sent, () => store.get('k'))).toEqual(['EVALSHA'])
  })

  it("never reads under a generation older than the last clear the bus told, nor older than the store's own writes", async () => {
    const { store, generation } = await following('plain-clear')
    const other = await fixture!.open()
    await store.set('a', text('old a'), 0, [], 'me')
    await store.set('b', text('old b'), 0, [], 'me')
    expect((await store.get('a'))?.bytes).toEqual(Buffer.from('old a'))

    // Another instance clears, then writes `a`; this store's own write of `b` comes after both.
    const cleared = await other.clear('other')
    await other.set('a', text('new a'), 0, [], 'other')
    await store.set('b', text('new b'), 0, [], 'me')
    expect((await store.get('b'))?.bytes).toEqual(Buffer.from('new b'))

    generation.cleared(cleared)
    expect((await store.get('a'))?.bytes).toEqual(Buffer.from('new a'))
    await other.clear('other')
    generation.cleared(await other.version())
    expect(await store.get('a')).toBeUndefined()
    expect(await store.get('b')).toBeUndefined()
  })

  it('asks the script for the time left of a value with an expiry, and never returns one that expired', async () => {
    const { store, sent } = await following('plain-expiry')
    await store.set('forever', text('f'), 0, [], 'a')
    await store.get('forever')
    await store.set('timed', text('t'), 60_000, [], 'a')
    expect(await sentBy(sent, () => store.get('timed'))).toEqual(['HMGET', 'EVALSHA'])
    const timed = await store.get('timed')
    expect(timed?.ttl).toBeGreaterThan(50_000)
    expect(timed?.ttl).toBeLessThanOrEqual(60_000)

    await store.set('brief', text('b'), 100, [], 'a')
    await sleep(250)
    // The record outlives its value by the tombstone time; the value is gone.
    expect(await store.get('brief')).toBeUndefined()
  })

  it('goes to the script first while most values read have an expiry, and back to plain reads when few have', async () => {
    const { store, sent } = await following('plain-share')
    await store.set('timed', text('t'), 60_000, [], 'a')
    await store.set('forever', text('f'), 0, [], 'a')
    await store.get('forever')
    for (let i = 0; i < 20; i++) await store.get('timed')
    expect(await sentBy(sent, () => store.get('timed'))).toEqual(['EVALSHA'])
    expect(await sentBy(sent, () => store.get('forever'))).toEqual(['EVALSHA'])
    for (let i = 0; i < 60; i++) await store.get('forever')
    expect(await sentBy(sent, () => store.get('forever'))).toEqual(['HMGET'])
  })
})
