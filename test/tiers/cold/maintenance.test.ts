import { join } from 'node:path'
import { unlink } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { bytes, harness, hintFiles, makeTempDir, segmentFiles, text, type Harness } from './helpers.js'

let h: Harness
let cleanup: () => Promise<void>
let store: ColdStore | undefined

const SEG = 16 * 1024
const value = (i: number, tag = ''): Uint8Array => bytes(`${tag}${i}:`.padEnd(200, '.'))

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(tmp.dir, { segmentBytes: SEG, maxBytes: 8 * SEG, compactionThreshold: 0.5 })
})
afterEach(async () => {
  await store?.close()
  store = undefined
  await cleanup()
})

async function drain(s: ColdStore, budget = 32 * 1024): Promise<number> {
  let rounds = 0
  while (await s.maintain(budget)) rounds++
  return rounds
}

async function fill(s: ColdStore, from: number, to: number, tag = ''): Promise<void> {
  for (let i = from; i < to; i += 20) {
    await s.putMany(Array.from({ length: Math.min(20, to - i) }, (_, j) => ({ key: `k${i + j}`, value: value(i + j, tag), expiresAt: 0 })))
  }
}

describe('size bound: region FIFO with reinsertion', () => {
  it('evicts oldest segments first, keeps entries read since written, and stays within maxBytes + one segment', async () => {
    store = await h.open()
    await fill(store, 0, 300) // ~4.5 segments
    const read = [5, 17, 42, 99]
    for (const i of read) expect(await store.get(`k${i}`)).toBeDefined()
    let maxDisk = 0
    for (let i = 300; i < 1500; i += 100) {
      await fill(store, i, i + 100)
      maxDisk = Math.max(maxDisk, store.stats().diskBytes)
      await drain(store)
      expect(store.stats().diskBytes).toBeLessThanOrEqual(8 * SEG)
      if (i === 700) expect(store.has('k6')).toBe(false) // its first segment has gone round
      // Hot keys keep being read, so each eviction round reinserts them.
      for (const k of read) expect(store.has(`k${k}`)).toBe(true)
      await store.getMany(read.map((k) => `k${k}`))
    }
    expect(maxDisk).toBeLessThanOrEqual(9 * SEG)
    expect(store.stats().evictions).toBeGreaterThan(0)
    // The early unread keys are gone; those read before their segment's turn came were reinserted.
    expect(store.has('k0')).toBe(false)
    expect(store.has('k6')).toBe(false)
    for (const i of read) expect(text((await store.get(`k${i}`))?.value)).toBe(text(value(i)))
    expect(text((await store.get('k1499'))?.value)).toBe(text(value(1499)))
    await store.close()
    store = await h.open()
    for (const i of read) expect(store.has(`k${i}`)).toBe(true)
    expect(store.has('k0')).toBe(false)
    expect(h.errors).toEqual([])
  })

  it('a key deleted while its segment is being evicted stays deleted after a crash', async () => {
    store = await h.open()
    await fill(store, 0, 600) // well over maxBytes - one segment
    expect(await store.maintain(2048)).toBe(true) // the eviction of the oldest segment is under way
    expect(store.has('k0')).toBe(true) // still readable until its file is gone
    expect(await store.delete('k0')).toBe(true)
    await store.sync()
    await store.abandonForTesting()
    store = await h.open()
    expect(store.has('k0')).toBe(false)
    expect(store.has('k1')).toBe(true)
  })

  it('keeps the hard bound even when maintain() is never called', async () => {
    store = await h.open()
    let maxDisk = 0
    for (let i = 0; i < 3000; i += 100) {
      await fill(store, i, i + 100)
      maxDisk = Math.max(maxDisk, store.stats().diskBytes)
    }
    expect(maxDisk).toBeLessThanOrEqual(9 * SEG)
    expect(store.has('k0')).toBe(false)
    expect(text((await store.get('k2999'))?.value)).toBe(text(value(2999)))
    expect([...store.keys()].length).toBe(store.stats().entries)
  })
})

describe('compaction', () => {
  it('rewrites mostly-dead segments, reclaims their space, and keeps every live value', async () => {
    store = await h.open({ maxBytes: 64 * SEG })
    await fill(store, 0, 400)
    await fill(store, 0, 400, 'new-') // every first version is now dead
    for (let i = 0; i < 400; i += 4) await store.delete(`k${i}`)
    const before = store.stats().diskBytes
    await drain(store)
    const after = store.stats()
    expect(after.compactions).toBeGreaterThan(0)
    expect(after.diskBytes).toBeLessThan(before * 0.6)
    const check = async (s: ColdStore): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        const got = await s.get(`k${i}`)
        if (i % 4 === 0) expect(got, `k${i}`).toBeUndefined()
        else expect(text(got?.value), `k${i}`).toBe(text(value(i, 'new-')))
      }
    }
    await check(store)
    await store.close()
    for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
    store = await h.open({ maxBytes: 64 * SEG })
    await check(store) // no deleted key and no old version came back
    expect(h.errors).toEqual([])
  })

  it('expired values are dropped and stay hidden after reopen (older versions do not resurface)', async () => {
    store = await h.open({ maxBytes: 64 * SEG })
    await fill(store, 0, 200, 'old-')
    const t = h.clock.t
    for (let i = 0; i < 200; i += 20) {
      await store.putMany(Array.from({ length: 20 }, (_, j) => ({ key: `k${i + j}`, value: value(i + j, 'ttl-'), expiresAt: t + 1000 })))
    }
    await fill(store, 1000, 1400, 'pad-') // seal the ttl segments
    h.clock.t += 1000
    await drain(store)
    expect(store.stats().compactions).toBeGreaterThan(0)
    await store.close()
    for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
    store = await h.open({ maxBytes: 64 * SEG })
    for (let i = 0; i < 200; i++) expect(store.has(`k${i}`), `k${i}`).toBe(false)
    expect(store.has('k1399')).toBe(true)
  })

  it('keeps serving reads and writes while a segment is rewritten', async () => {
    store = await h.open({ maxBytes: 64 * SEG })
    await fill(store, 0, 400)
    await fill(store, 0, 300, 'v2-')
    const segsBefore = (await segmentFiles(h.dir)).length
    const maintaining = drain(store, 4096)
    const reads = []
    for (let i = 0; i < 400; i++) reads.push(store.get(`k${i}`).then((g) => [i, text(g?.value)] as const))
    const writes = store.putMany([{ key: 'k399', value: value(399, 'v3-'), expiresAt: 0 }])
    await Promise.all([maintaining, writes])
    for (const [i, got] of await Promise.all(reads)) {
      if (i === 399) expect([text(value(399)), text(value(399, 'v3-'))]).toContain(got)
      else expect(got).toBe(text(value(i, i < 300 ? 'v2-' : '')))
    }
    expect(text((await store.get('k399'))?.value)).toBe(text(value(399, 'v3-')))
    expect((await segmentFiles(h.dir)).length).toBeLessThan(segsBefore)
  })

  it.each(['tombstone', 'expired value'] as const)('a shadow (%s) over an older value in an older segment is carried forward, not dropped', async (kind) => {
    store = await h.open({ maxBytes: 64 * SEG })
    const t = h.clock.t
    await store.putMany([{ key: 'victim', value: value(0, 'old-'), expiresAt: 0 }])
    await fill(store, 0, 80) // fills the victim's segment with live values; the shadow lands in the next
    if (kind === 'tombstone') await store.delete('victim')
    else await store.putMany([{ key: 'victim', value: value(0, 'ttl-'), expiresAt: t + 1000 }])
    await fill(store, 100, 180, 'junk-')
    await fill(store, 100, 180, 'junk2-') // the segment holding the shadow is now mostly dead
    h.clock.t += 1000
    await drain(store)
    expect(store.stats().compactions).toBeGreaterThan(0)
    expect(store.has('victim')).toBe(false)
    await store.close()
    for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
    store = await h.open({ maxBytes: 64 * SEG })
    expect(store.has('victim')).toBe(false)
    expect(store.has('k59')).toBe(true)
  })
})

describe('onLeave', () => {
  it('tells each value that leaves for room once (evicted), an expired one as expired, and none that a write, a delete or reinsertion accounts for', async () => {
    const left: { key: string; reason: string; tagged: boolean }[] = []
    store = await h.open({ onLeave: (key, reason, tagged) => left.push({ key, reason, tagged }) })
    const s = store
    await s.putMany([
      { key: 'exp', value: value(0), expiresAt: h.clock.t + 1000 },
      { key: 'tagged', value: value(0), expiresAt: 0, tags: ['t'] },
    ])
    await fill(s, 0, 300) // ~4.5 segments
    for (const i of [5, 17]) expect(await s.get(`k${i}`)).toBeDefined()
    await s.putMany([{ key: 'k3', value: value(3, 'new'), expiresAt: 0 }])
    expect(await s.delete('k4')).toBe(true)
    h.clock.t += 1000
    let written = 300
    const keys = (): string[] => ['exp', 'tagged', ...Array.from({ length: written }, (_, i) => `k${i}`)]
    const evicted = (): string[] => left.filter((l) => l.reason === 'evicted').map((l) => l.key)
    /** Every key the store no longer holds was told once as evicted, unless deleted or expired; none it holds. */
    const check = (): void => {
      // Looked up first: a lookup is how the store notices what the hard bound dropped.
      const gone = keys().filter((k) => !s.has(k) && k !== 'k4' && k !== 'exp')
      const told = evicted()
      expect(new Set(told).size).toBe(told.length)
      expect([...told].sort()).toEqual(gone.sort())
      expect(left.filter((l) => l.reason !== 'evicted')).toEqual([{ key: 'exp', reason: 'expired', tagged: false }])
      expect(left.filter((l) => l.tagged).map((l) => l.key)).toEqual(told.includes('tagged') ? ['tagged'] : [])
    }

    await fill(s, 300, (written = 500)) // past maxBytes minus one segment: maintenance evicts, with reinsertion
    await drain(s)
    expect(s.stats().evictions).toBeGreaterThan(0)
    expect(evicted()).toContain('k0')
    expect(evicted()).toContain('tagged')
    for (const k of ['k5', 'k17', 'k3']) expect(s.has(k)).toBe(true)
    check()

    await fill(s, 500, (written = 1400)) // no maintenance: the hard bound drops whole segments, noticed by lookups
    check()
    await drain(s)
    check()
    expect(evicted().length).toBeGreaterThan(900)
  })
})
