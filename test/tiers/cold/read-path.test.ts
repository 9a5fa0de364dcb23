import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { SLOT_BYTES } from '../../../src/tiers/cold/segment-reader.js'
import { bytes, harness, makeTempDir, segmentFiles, text, type Harness } from './helpers.js'

// The read path reads into buffers it reuses (one per read slot) and copies
// out only the value it returns; these pin what that must never break.

let h: Harness
let cleanup: () => Promise<void>
let store: ColdStore | undefined

const valueAt = (i: number): string => `value-${i}-`.padEnd(60 + (i % 50), String.fromCharCode(97 + (i % 26)))

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(tmp.dir)
})
afterEach(async () => {
  await store?.close()
  store = undefined
  await cleanup()
})

async function fill(s: ColdStore, n: number, of: (i: number) => string = valueAt): Promise<void> {
  for (let i = 0; i < n; i += 50) {
    await s.putMany(Array.from({ length: Math.min(50, n - i) }, (_, j) => ({ key: `k${i + j}`, value: bytes(of(i + j)), expiresAt: 0 })))
  }
}

describe('read path: reused read buffers', () => {
  it('a value handed out never changes as later reads reuse the read buffers', async () => {
    store = await h.open({ readConcurrency: 2 })
    await fill(store, 200)
    const first = await store.get('k0')
    const many = await store.getMany(Array.from({ length: 200 }, (_, i) => `k${i}`))
    const singles = await Promise.all(Array.from({ length: 200 }, (_, i) => store!.get(`k${199 - i}`)))
    for (let round = 0; round < 3; round++) await store.getMany(Array.from({ length: 200 }, (_, i) => `k${(i * 7 + round) % 200}`))
    expect(text(first?.value)).toBe(valueAt(0))
    many.forEach((g, i) => expect(text(g?.value)).toBe(valueAt(i)))
    singles.forEach((g, i) => expect(text(g?.value)).toBe(valueAt(199 - i)))
  })

  it('a value is a copy: writing into it changes neither the store nor later reads', async () => {
    store = await h.open({ readConcurrency: 1 })
    await fill(store, 10)
    const a = await store.get('k3')
    a!.value.fill(0x21)
    const b = await store.get('k3')
    expect(text(b?.value)).toBe(valueAt(3))
    expect(a!.value).not.toBe(b!.value)
  })

  it('records larger than a read slot, and those of exactly its size, read whole next to small ones', async () => {
    store = await h.open({ readConcurrency: 2 })
    // Sizes around the slot: the record (header, key, value) crosses SLOT_BYTES.
    const sizes = [10, SLOT_BYTES - 40, SLOT_BYTES - 35, SLOT_BYTES, 3 * SLOT_BYTES, 100]
    const big = (i: number): string => `big-${i}-`.padEnd(sizes[i], String.fromCharCode(65 + i))
    await store.putMany(sizes.map((_, i) => ({ key: `b${i}`, value: bytes(big(i)), expiresAt: 0 })))
    await fill(store, 50)
    const keys = [...sizes.map((_, i) => `b${i}`), ...Array.from({ length: 50 }, (_, i) => `k${i}`)]
    const got = await store.getMany(keys)
    sizes.forEach((_, i) => expect(text(got[i]?.value)).toBe(big(i)))
    for (let i = 0; i < 50; i++) expect(text(got[sizes.length + i]?.value)).toBe(valueAt(i))
  })
})

describe('read path: getMany and get', () => {
  it('getMany keeps the order of its keys, with undefined for misses and repeats answered each', async () => {
    store = await h.open({ readConcurrency: 3 })
    await fill(store, 20)
    const keys = ['k5', 'nope', 'k5', 'k19', 'k0', 'also-nope', 'k7']
    const got = await store.getMany(keys)
    expect(got).toHaveLength(keys.length)
    expect(got.map((g) => text(g?.value))).toEqual(keys.map((k) => (k.startsWith('k') ? valueAt(Number(k.slice(1))) : undefined)))
    expect(1 in got).toBe(true) // a miss is an element, not a hole
    expect(await store.getMany([])).toEqual([])
    expect(await store.getMany(['x', 'y'])).toEqual([undefined, undefined])
    expect(store.stats().misses).toBe(4)
  })

  it('skips decoding tags only when asked to', async () => {
    store = await h.open()
    await store.putMany([
      { key: 't', value: bytes('tagged value'), expiresAt: 0, flags: 3, tags: ['red', 'blue'] },
      { key: 'p', value: bytes('plain'), expiresAt: 0 },
    ])
    expect(await store.get('t')).toMatchObject({ flags: 3, tags: ['red', 'blue'] })
    const bare = await store.get('t', { tags: false })
    expect(bare).not.toHaveProperty('tags')
    expect(text(bare?.value)).toBe('tagged value')
    expect(bare?.flags).toBe(3)
    const [t, p] = await store.getMany(['t', 'p'], { tags: false })
    expect(t).not.toHaveProperty('tags')
    expect(text(t?.value)).toBe('tagged value')
    expect(text(p?.value)).toBe('plain')
  })

  it('close() waits for the reads in flight, which all answer', async () => {
    store = await h.open({ readConcurrency: 2 })
    await fill(store, 100)
    const reads = Array.from({ length: 100 }, (_, i) => store!.get(`k${i}`))
    const many = store.getMany(Array.from({ length: 100 }, (_, i) => `k${99 - i}`))
    const closing = store.close()
    store = undefined
    await closing
    ;(await Promise.all(reads)).forEach((g, i) => expect(text(g?.value)).toBe(valueAt(i)))
    ;(await many).forEach((g, i) => expect(text(g?.value)).toBe(valueAt(99 - i)))
  })

  it('reads racing compaction, queued behind one slot, return the newest value', async () => {
    const SEG = 16 * 1024
    store = await h.open({ segmentBytes: SEG, maxBytes: 64 * SEG, compactionThreshold: 0.5, readConcurrency: 1 })
    await fill(store, 300)
    // Two keys in three get a newer value: the old segments are mostly dead, and every third key lives on in them.
    await fill(store, 300, (i) => (i % 3 === 0 ? valueAt(i) : `v2-${valueAt(i)}`))
    await fill(store, 300, (i) => (i % 3 === 0 ? `v3-${valueAt(i)}` : `v2-${valueAt(i)}`))
    const want = (i: number): string => (i % 3 === 0 ? `v3-${valueAt(i)}` : `v2-${valueAt(i)}`)
    await store.putMany(Array.from({ length: 100 }, (_, j) => ({ key: `k${3 * j}`, value: bytes(valueAt(3 * j)), expiresAt: 0 })))
    const live = (i: number): string => (i % 3 === 0 ? valueAt(i) : want(i))
    const before = (await segmentFiles(h.dir)).length
    // Thousands of reads queued behind one slot: many start after compaction moved their record and dropped its segment.
    const keys = Array.from({ length: 3000 }, (_, n) => (n * 7) % 300)
    const reads = keys.map((i) => store!.get(`k${i}`))
    const many = store.getMany(Array.from({ length: 300 }, (_, i) => `k${i}`))
    while (await store.maintain(64 * 1024));
    expect(store.stats().compactions).toBeGreaterThan(0)
    expect((await segmentFiles(h.dir)).length).toBeLessThan(before)
    const got = await Promise.all(reads)
    got.forEach((g, n) => expect(text(g?.value)).toBe(live(keys[n])))
    ;(await many).forEach((g, i) => expect(text(g?.value)).toBe(live(i)))
    expect(h.errors).toEqual([])
  })
})

describe('read path: corrupt records', () => {
  it('a corrupt record in a getMany is reported once, reads as a miss, and the buffer it was read into serves the next reads intact', async () => {
    store = await h.open({ segmentBytes: 8192 })
    await fill(store, 200)
    await store.close()
    const segs = await segmentFiles(h.dir)
    const file = join(h.dir, segs[1])
    const buf = await readFile(file)
    buf[buf.length >> 1] ^= 0x5a
    await writeFile(file, buf)
    store = await h.open({ segmentBytes: 8192, readConcurrency: 1 })
    expect(h.errors).toEqual([]) // hints are valid: only a read finds it
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`)
    const got = await store.getMany(keys)
    const lost = keys.filter((_, i) => got[i] === undefined)
    expect(lost).toHaveLength(1)
    got.forEach((g, i) => g !== undefined && expect(text(g.value)).toBe(valueAt(i)))
    expect(h.errors.map((e) => e.code)).toEqual(['E_CORRUPT'])
    expect(store.stats().corruptRecords).toBe(1)
    expect(await store.get(lost[0])).toBeUndefined()
    expect(h.errors).toHaveLength(1)
  })

  it('an onError that throws rejects that read instead of escaping from the I/O callback', async () => {
    store = await h.open({ segmentBytes: 8192 })
    await fill(store, 200)
    await store.close()
    const segs = await segmentFiles(h.dir)
    const file = join(h.dir, segs[1])
    const buf = await readFile(file)
    buf[buf.length >> 1] ^= 0x5a
    await writeFile(file, buf)
    store = await h.open({
      segmentBytes: 8192,
      onError: (e) => {
        throw e
      },
    })
    const settled = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => store!.get(`k${i}`)))
    const rejected = settled.filter((s) => s.status === 'rejected')
    expect(rejected).toHaveLength(1)
    expect((rejected[0] as PromiseRejectedResult).reason.code).toBe('E_CORRUPT')
    await expect(store.getMany(Array.from({ length: 200 }, (_, i) => `k${i}`))).resolves.toHaveLength(200)
  })
})
