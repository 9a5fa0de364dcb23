import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isCacheError } from '../../../src/errors.js'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { bytes, harness, makeTempDir, segmentFiles, text, type Harness } from './helpers.js'

let h: Harness
let cleanup: () => Promise<void>
let store: ColdStore | undefined

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(tmp.dir)
})
afterEach(async () => {
  vi.restoreAllMocks()
  await store?.close()
  store = undefined
  await cleanup()
})

describe('ColdStore basics', () => {
  it('round-trips values, overwrites, deletes, and answers misses from the index', async () => {
    store = await h.open()
    await store.putMany([
      { key: 'a', value: bytes('one'), expiresAt: 0 },
      { key: 'b', value: bytes('two'), expiresAt: 0, flags: 9 },
      { key: 'ключ', value: new Uint8Array(0), expiresAt: 0 },
    ])
    expect(text((await store.get('a'))?.value)).toBe('one')
    expect(await store.get('b')).toMatchObject({ expiresAt: 0, flags: 9 })
    expect((await store.get('ключ'))?.value.length).toBe(0)
    await store.putMany([{ key: 'a', value: bytes('uno'), expiresAt: 0 }])
    expect(text((await store.get('a'))?.value)).toBe('uno')
    const readsBefore = store.stats().reads
    expect(store.has('zzz')).toBe(false)
    expect(await store.get('zzz')).toBeUndefined()
    expect(store.stats().reads).toBe(readsBefore) // a miss costs no I/O
    expect(await store.delete('a')).toBe(true)
    expect(await store.delete('a')).toBe(false)
    expect(await store.delete('never')).toBe(false)
    expect(store.has('a')).toBe(false)
    expect(await store.get('a')).toBeUndefined()
    expect([...store.keys()].sort()).toEqual(['b', 'ключ'])
    const values = await store.getMany(['b', 'a', 'ключ', 'x'])
    expect(values.map((v) => (v === undefined ? undefined : text(v.value)))).toEqual(['two', undefined, '', undefined])
    expect(store.stats()).toMatchObject({ entries: 2, hits: 6 })
  })

  it('hides expired entries by the injected clock', async () => {
    store = await h.open()
    const t = h.clock.t
    await store.putMany([
      { key: 'short', value: bytes('s'), expiresAt: t + 1000 },
      { key: 'long', value: bytes('l'), expiresAt: t + 60_000 },
    ])
    expect(store.has('short')).toBe(true)
    h.clock.t += 1000
    expect(store.has('short')).toBe(false)
    expect(await store.get('short')).toBeUndefined()
    expect(await store.get('long')).toEqual({ value: expect.anything(), expiresAt: t + 60_000, flags: 0 })
    expect(await store.delete('short')).toBe(false)
  })

  it('reopens with every entry, its flags and its remaining expiresAt', async () => {
    store = await h.open({ segmentBytes: 4096 })
    const t = h.clock.t
    const entries = Array.from({ length: 300 }, (_, i) => ({
      key: `key-${i}`,
      value: bytes(`value-${i}`.repeat(1 + (i % 5))),
      expiresAt: i % 3 === 0 ? 0 : t + 1000 * i,
      flags: i % 16,
    }))
    await store.putMany(entries)
    await store.delete('key-7')
    await store.putMany([{ key: 'key-8', value: bytes('new'), expiresAt: 0 }])
    await store.close()
    h.clock.t += 5000 // keys 1, 2, 4 (not multiples of 3, i*1000 <= 5000) are now expired
    store = await h.open({ segmentBytes: 4096 })
    expect((await segmentFiles(h.dir)).length).toBeGreaterThan(3)
    for (const e of entries) {
      const got = await store.get(e.key)
      const i = Number(e.key.slice(4))
      if (i === 7 || (e.expiresAt !== 0 && e.expiresAt <= h.clock.t)) expect(got, e.key).toBeUndefined()
      else if (i === 8) expect(text(got?.value)).toBe('new')
      else expect(got, e.key).toEqual({ value: Buffer.from(e.value), expiresAt: e.expiresAt, flags: e.flags })
    }
    expect(h.errors).toEqual([])
  })

  it('rejects bad input whole, with typed errors, and writes none of the batch', async () => {
    store = await h.open({ segmentBytes: 1024, maxBytes: 8192 })
    const big = { key: 'big', value: new Uint8Array(1024), expiresAt: 0 }
    await expect(store.putMany([{ key: 'ok', value: bytes('x'), expiresAt: 0 }, big])).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await expect(store.putMany([{ key: '', value: bytes('x'), expiresAt: 0 }])).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
    await expect(store.putMany([{ key: 'k', value: 'str' as never, expiresAt: 0 }])).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await expect(store.putMany([{ key: 'k', value: bytes('x'), expiresAt: -1 }])).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(store.has('ok')).toBe(false)
    expect(store.stats().writes).toBe(0)
    await store.close()
    await expect(store.get('ok')).rejects.toMatchObject({ code: 'E_CLOSED' })
    store = undefined
  })

  it('clear empties the store and stays cleared after reopen; later writes survive', async () => {
    store = await h.open({ segmentBytes: 2048 })
    await store.putMany(Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: bytes(`v${i}`), expiresAt: 0 })))
    const clearing = store.clear()
    const after = store.putMany([{ key: 'k1', value: bytes('after'), expiresAt: 0 }])
    await Promise.all([clearing, after])
    expect([...store.keys()]).toEqual(['k1'])
    expect(store.stats().entries).toBe(1)
    await store.sync()
    await store.abandonForTesting() // a crash: no close, no hint for the active segment
    store = await h.open({ segmentBytes: 2048 })
    expect([...store.keys()]).toEqual(['k1'])
    expect(text((await store.get('k1'))?.value)).toBe('after')
  })
})

describe('group commit', () => {
  it('coalesces concurrent putMany calls into one write and one fsync under always', async () => {
    store = await h.open({ fsync: 'always' })
    await store.putMany([{ key: 'warm-up', value: bytes('x'), expiresAt: 0 }])
    const probe: FileHandle = await open(join(h.dir, 'probe'), 'w')
    const proto = Object.getPrototypeOf(probe) as FileHandle
    await probe.close()
    const write = vi.spyOn(proto, 'write')
    const datasync = vi.spyOn(proto, 'datasync')
    const before = store.stats()
    await Promise.all(Array.from({ length: 200 }, (_, i) => store!.putMany([{ key: `k${i}`, value: bytes(`v${i}`), expiresAt: 0 }])))
    expect(write).toHaveBeenCalledTimes(1)
    expect(datasync).toHaveBeenCalledTimes(1)
    expect(store.stats().writes - before.writes).toBe(1)
    expect(store.stats().syncs - before.syncs).toBe(1)
    expect(text((await store.get('k199'))?.value)).toBe('v199')
  })

  it('puts arriving while a batch is on disk share the next batch', async () => {
    store = await h.open({ fsync: 'always' })
    const first = store.putMany([{ key: 'a', value: bytes('1'), expiresAt: 0 }])
    await Promise.resolve() // the first batch has started
    await new Promise<void>((r) => queueMicrotask(r))
    const rest = Array.from({ length: 50 }, (_, i) => store!.putMany([{ key: `b${i}`, value: bytes('2'), expiresAt: 0 }]))
    await Promise.all([first, ...rest])
    expect(store.stats().writes).toBeLessThanOrEqual(2)
  })

  it('sync() makes acknowledged writes durable with data and directory fsync', async () => {
    store = await h.open({ fsync: 'never' })
    await store.putMany([{ key: 'a', value: bytes('1'), expiresAt: 0 }])
    expect(store.stats().syncs).toBe(0)
    await store.sync()
    expect(store.stats().syncs).toBe(1)
  })
})

describe('write faults', () => {
  it('ENOSPC rejects the batch with E_IO, reports it, loses nothing durable, and writing resumes', async () => {
    store = await h.open({ fsync: 'always' })
    await store.putMany([{ key: 'safe', value: bytes('kept'), expiresAt: 0 }])
    const probe = await open(join(h.dir, 'probe'), 'w')
    const proto = Object.getPrototypeOf(probe) as FileHandle
    await probe.close()
    const original = proto.write
    vi.spyOn(proto, 'write').mockImplementationOnce(async function (this: FileHandle, ...args: unknown[]) {
      // Half the batch reaches the file before the disk fills up.
      const [buf, offset, length, position] = args as [Buffer, number, number, number]
      await (original as (...a: unknown[]) => Promise<unknown>).call(this, buf, offset, Math.floor(length / 2), position)
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    })
    const failed = store.putMany([{ key: 'lost', value: bytes('x'.repeat(500)), expiresAt: 0 }])
    await expect(failed).rejects.toSatisfy((e: unknown) => isCacheError(e, 'E_IO'))
    expect(h.errors.map((e) => e.code)).toEqual(['E_IO'])
    expect(store.has('lost')).toBe(false)
    await store.putMany([{ key: 'later', value: bytes('ok'), expiresAt: 0 }])
    await store.close()
    store = await h.open()
    expect(text((await store.get('safe'))?.value)).toBe('kept')
    expect(text((await store.get('later'))?.value)).toBe('ok')
    expect(store.has('lost')).toBe(false)
    expect(h.errors.map((e) => e.code)).toEqual(['E_IO']) // the torn half was cut back: no corruption
  })
})
