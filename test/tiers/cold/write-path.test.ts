import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isCacheError } from '../../../src/errors.js'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { bytes, harness, makeTempDir, text, type Harness } from './helpers.js'

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

type AnyWrite = (...a: unknown[]) => Promise<{ bytesWritten: number; buffer: string }>

/** FileHandle's prototype, to spy on the writer's positioned writes. */
async function fileHandleProto(): Promise<FileHandle> {
  const probe = await open(join(h.dir, 'probe'), 'w')
  await probe.close()
  return Object.getPrototypeOf(probe) as FileHandle
}

// 1.5 MiB values: a group-committed batch holds at most 4 MiB, so calls made together are split two by two.
const big = (c: string): Uint8Array => new Uint8Array(Buffer.alloc(1536 << 10, c))

describe('coalesced putMany calls', () => {
  it('each resolves only after the write holding its own records has ended, with the index updated', async () => {
    store = await h.open({ fsync: 'never', segmentBytes: 64 << 20 })
    const proto = await fileHandleProto()
    const original = proto.write
    const events: string[] = []
    let writes = 0
    vi.spyOn(proto, 'write').mockImplementation(async function (this: FileHandle, ...args: unknown[]) {
      const n = ++writes
      events.push(`write ${n} start`)
      const r = await (original as AnyWrite).apply(this, args)
      events.push(`write ${n} end`)
      return r
    })
    const s = store
    const calls = ['a', 'b', 'c', 'd', 'e'].map((k) =>
      s.putMany([{ key: k, value: big(k), expiresAt: 0 }]).then(() => {
        events.push(`resolved ${k}`)
        expect(s.has(k)).toBe(true)
      }),
    )
    await Promise.all(calls)
    expect(writes).toBe(3)
    const at = (e: string): number => events.indexOf(e)
    for (const [k, n] of [
      ['a', 1],
      ['b', 1],
      ['c', 2],
      ['d', 2],
      ['e', 3],
    ] as const) {
      expect(at(`resolved ${k}`)).toBeGreaterThan(at(`write ${n} end`))
    }
    // Not held back by later batches either.
    expect(at('resolved b')).toBeLessThan(at('write 2 end'))
    expect(at('resolved d')).toBeLessThan(at('write 3 end'))
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(text((await s.get(k))?.value)?.[0]).toBe(k)
  })

  it('a failed write rejects exactly the calls whose records it held; the others resolve and survive a reopen', async () => {
    store = await h.open({ fsync: 'never', segmentBytes: 64 << 20 })
    const proto = await fileHandleProto()
    const original = proto.write as AnyWrite
    let writes = 0
    vi.spyOn(proto, 'write').mockImplementation(async function (this: FileHandle, ...args: unknown[]) {
      if (++writes === 2) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })
      return original.apply(this, args)
    })
    const s = store
    const settled = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((k) => s.putMany([{ key: k, value: big(k), expiresAt: 0 }])))
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled'])
    for (const r of settled) if (r.status === 'rejected') expect(isCacheError(r.reason, 'E_IO')).toBe(true)
    expect(h.errors.map((e) => e.code)).toEqual(['E_IO'])
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => s.has(k))).toEqual([true, true, false, false, true])
    // A key whose only write failed has no write in flight any more.
    expect(await s.delete('c')).toBe(false)
    vi.restoreAllMocks()
    await s.close()
    store = await h.open()
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => store!.has(k))).toEqual([true, true, false, false, true])
    expect(text((await store.get('e'))?.value)?.[0]).toBe('e')
  })
})

describe('writes in flight', () => {
  it('delete() sees a key as written while any write of it is in flight, and not after the last one settled', async () => {
    store = await h.open({ fsync: 'never', segmentBytes: 64 << 20 })
    const s = store
    // Two requests of key k in different batches (the first batch is full with a and k).
    const seen: boolean[] = []
    const first = s.putMany([{ key: 'a', value: big('a'), expiresAt: 0 }])
    const k1 = s.putMany([{ key: 'k', value: big('1'), expiresAt: 0 }])
    const filler = s.putMany([{ key: 'f', value: big('f'), expiresAt: 0 }])
    const k2 = s.putMany([{ key: 'k', value: bytes('2'), expiresAt: 0 }])
    // The first write of k has settled; the second is still in flight, so the tombstone is due and `live`.
    const deleted = k1.then(() => s.delete('k'))
    await Promise.all([first, k1, filler, k2])
    seen.push(await deleted)
    expect(seen).toEqual([true])
    expect(s.has('k')).toBe(false) // the tombstone was written after the second value
    // Nothing in flight: a key never written, or deleted already, is not live.
    expect(await s.delete('k')).toBe(false)
    expect(await s.delete('never')).toBe(false)
  })

  it('keeps the in-flight bookkeeping right when writes never stop long enough to empty it', async () => {
    store = await h.open({ fsync: 'never', segmentBytes: 64 << 20 })
    const s = store
    const n = 70_000 // over the sweep threshold, several batches of ~4 MiB
    const value = new Uint8Array(100)
    const calls: Promise<void>[] = []
    for (let i = 0; i < n; i++) calls.push(s.putMany([{ key: `k${i}`, value, expiresAt: 0 }]))
    // When the first call resolves, the last ones are still in flight (and not yet in the index).
    const check = calls[0].then(() => {
      expect(s.has(`k${n - 1}`)).toBe(false)
      return s.delete(`k${n - 1}`)
    })
    await Promise.all(calls)
    expect(await check).toBe(true)
    expect(s.has(`k${n - 1}`)).toBe(false)
    expect(s.has('k0')).toBe(true)
    expect(s.stats().entries).toBe(n - 1)
  })
})
