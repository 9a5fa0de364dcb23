import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteArena, RECORD_HEADER, slabBytesFor } from '../../../src/tiers/memory/byte-arena.js'

const SMALL_BOUND = 1 << 20 // slabs of 16 KiB, a quarter of it per slice
function bytesOf(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7) & 0xff
  return bytes
}

/** Byte for byte, without a deep equality's cost per element. */
const same = (actual: Uint8Array, expected: Uint8Array): boolean => Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected)

/** An arena with room for `slots`, and a count of the times it asked for compaction. */
function arena(slots = 1024, maxBytes = SMALL_BOUND) {
  const asked = { times: 0 }
  return { a: new ByteArena(slots, maxBytes, () => asked.times++), asked }
}

/** Runs scheduled slices until the arena wants no more; their count. */
function compactAll(a: ByteArena): number {
  let slices = 1
  while (a.compactSlice()) slices++
  return slices
}

describe('ByteArena', () => {
  it('sizes its slabs from the bound: a sixty-fourth of it, from 16 KiB to 1 MiB', () => {
    expect(slabBytesFor(1000)).toBe(16 << 10)
    expect(slabBytesFor(8 << 20)).toBe(128 << 10)
    expect(slabBytesFor(512 << 20)).toBe(1 << 20)
  })

  it('gives each slot its bytes back, as a view into a slab and as a copy', () => {
    const { a } = arena()
    a.put(0, bytesOf(10, 1))
    a.put(1, bytesOf(300, 2))
    a.put(2, new Uint8Array(0))
    expect(a.at(0)).toEqual(bytesOf(10, 1))
    expect(a.at(1)).toEqual(bytesOf(300, 2))
    expect(a.at(2).byteLength).toBe(0)
    expect(a.at(0).buffer).toBe(a.at(1).buffer) // one slab
    const copy = a.lasting(1)
    expect(same(copy, bytesOf(300, 2))).toBe(true)
    expect(copy.buffer).not.toBe(a.at(1).buffer)
    expect(a.lengthAt(1)).toBe(300)
    expect(a.figures).toEqual({ slabs: 1, liveBytes: 310 + 3 * RECORD_HEADER, garbageBytes: 0, ownBytes: 0, copiedBytes: 0 })
  })

  it('copies what it is given: a change of the caller’s buffer afterwards does not reach it', () => {
    const { a } = arena()
    const given = bytesOf(20, 3)
    a.put(0, given)
    given.fill(0)
    expect(a.at(0)).toEqual(bytesOf(20, 3))
  })

  it('keeps a value too large for a slice in the buffer it came in, outside the slabs', () => {
    const { a } = arena()
    const big = bytesOf(a.sliceBytes, 4)
    a.put(0, big)
    expect(a.at(0)).toBe(big)
    expect(a.lasting(0)).toBe(big)
    expect(a.figures).toMatchObject({ slabs: 0, ownBytes: a.sliceBytes })
    a.free(0)
    expect(a.figures.ownBytes).toBe(0)
  })

  it('bumps a slot’s stamp on every write and free, and keeps it when compaction moves the bytes', () => {
    const { a } = arena()
    a.put(0, bytesOf(10, 1))
    const written = a.stampAt(0)
    a.free(0)
    expect(a.stampAt(0)).not.toBe(written)
    a.put(0, bytesOf(10, 1))
    expect(a.stampAt(0)).not.toBe(written)
    const stamp = a.stampAt(0)
    // Fill slabs behind it, free them but slot 0: compaction moves its bytes.
    for (let i = 1; i < 200; i++) a.put(i, bytesOf(1000, i))
    for (let i = 1; i < 200; i++) a.free(i)
    const before = a.at(0).byteOffset
    compactAll(a)
    expect(a.at(0)).toEqual(bytesOf(10, 1))
    expect(a.stampAt(0)).toBe(stamp)
    expect(a.at(0).byteOffset === before && a.figures.garbageBytes === 0).toBe(false)
  })

  it('lets a slab go when frees empty it, without reusing it', () => {
    const { a } = arena()
    const perSlab = Math.floor(a.slabBytes / (1000 + RECORD_HEADER))
    for (let i = 0; i < 2 * perSlab; i++) a.put(i, bytesOf(1000, i))
    expect(a.figures.slabs).toBe(2)
    const firstSlab = a.at(0).buffer
    for (let i = 0; i < perSlab; i++) a.free(i)
    expect(a.figures.slabs).toBe(1)
    for (let i = 0; i < 2 * perSlab; i++) a.put(500 + i, bytesOf(1000, 5))
    for (let i = 0; i < 2 * perSlab; i++) expect(a.at(500 + i).buffer).not.toBe(firstSlab)
  })

  it('asks for compaction once freed bytes pile up, and a pass copies the live entries of sparse slabs out', () => {
    const { a, asked } = arena(4096)
    const perSlab = Math.floor(a.slabBytes / (1000 + RECORD_HEADER))
    const slots = 8 * perSlab
    for (let i = 0; i < slots; i++) a.put(i, bytesOf(1000, i))
    // Every slab keeps a quarter of its entries: no slab empties by frees alone.
    for (let i = 0; i < slots; i++) if (i % 4 !== 0) a.free(i)
    expect(asked.times).toBeGreaterThan(0)
    expect(a.wantsCompaction).toBe(true)
    expect(a.figures.slabs).toBe(8)
    compactAll(a)
    expect(a.wantsCompaction).toBe(false)
    // The live quarter fills two slabs; beside them the current one and at most two spares.
    expect(a.figures.slabs).toBeLessThanOrEqual(2 + 1 + 2)
    expect(a.figures.garbageBytes).toBeLessThanOrEqual(a.slabBytes)
    for (let i = 0; i < slots; i += 4) expect(same(a.at(i), bytesOf(1000, i))).toBe(true)
  })

  it('reuses a slab a scheduled pass emptied for the next writes', () => {
    const { a } = arena(4096)
    const perSlab = Math.floor(a.slabBytes / (1000 + RECORD_HEADER))
    for (let i = 0; i < 8 * perSlab; i++) a.put(i, bytesOf(1000, i))
    const buffers = new Set<ArrayBufferLike>()
    for (let i = 0; i < 8 * perSlab; i++) buffers.add(a.at(i).buffer)
    for (let i = 0; i < 8 * perSlab; i++) if (i % 4 !== 0) a.free(i)
    compactAll(a)
    const slabsAfter = a.figures.slabs
    // New writes fill the current slab, then the spare ones: no new slab until they are used.
    for (let i = 0; i < 2 * perSlab; i++) a.put(2000 + i, bytesOf(1000, i))
    expect(a.figures.slabs).toBe(slabsAfter)
    expect(buffers.has(a.at(2000 + 2 * perSlab - 1).buffer)).toBe(true)
  })

  it('never copies more than a slice’s bytes in one slice', () => {
    const { a } = arena(8192)
    let slot = 0
    const live: number[] = []
    const slices: number[] = []
    // Bursts of writes of mixed sizes (up to the largest a slab takes), and deletes of most of them.
    for (let burst = 0; burst < 12; burst++) {
      for (let i = 0; i < 60; i++, slot++) {
        a.put(slot, bytesOf(i % 3 === 0 ? a.sliceBytes - RECORD_HEADER : 100 + 37 * i, slot))
        live.push(slot)
      }
      for (let i = live.length - 1; i >= 0; i -= 1) if ((live[i] * 7) % 10 < 7) a.free(live.splice(i, 1)[0])
      let more = true
      while (more) {
        const before = a.figures.copiedBytes
        more = a.compactSlice()
        slices.push(a.figures.copiedBytes - before)
      }
    }
    expect(Math.max(...slices)).toBeLessThanOrEqual(a.sliceBytes)
    expect(slices.filter((copied) => copied > 0).length).toBeGreaterThan(10) // it did compact, in many slices
    for (const s of live) expect(same(a.at(s), bytesOf(a.lengthAt(s), s))).toBe(true)
  })

  it('bounds freed bytes without any slice: each write first reclaims some', () => {
    const { a } = arena(1 << 15)
    const entries = 4000
    const last = new Array<number>(entries)
    // Slots rewritten at random: every slab keeps some live entries, few empty by frees alone.
    let seed = 12345
    for (let i = 0; i < 20 * entries; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      const slot = i < entries ? i : (seed >>> 8) % entries
      if (i >= entries) a.free(slot)
      a.put(slot, bytesOf(1000, i))
      last[slot] = i
    }
    const { liveBytes, garbageBytes } = a.figures
    // An eighth of the live bytes, and what slabs too full to be worth emptying hold (a sixteenth of them at most).
    expect(garbageBytes).toBeLessThanOrEqual(Math.max(4 * a.slabBytes, liveBytes / 8) + (liveBytes + garbageBytes) / 16 + 2 * (1000 + RECORD_HEADER))
    for (let slot = 0; slot < entries; slot++) expect(same(a.at(slot), bytesOf(1000, last[slot]))).toBe(true)
    expect(a.figures.copiedBytes).toBeGreaterThan(0)
  })

  it('stops a pass on request, and forgets everything on reset', () => {
    const { a } = arena(4096)
    for (let i = 0; i < 400; i++) a.put(i, bytesOf(1000, i))
    for (let i = 0; i < 400; i++) if (i % 4 !== 0) a.free(i)
    expect(a.compactSlice()).toBe(true)
    a.stopCompaction()
    for (let i = 0; i < 400; i += 4) expect(a.at(i)).toEqual(bytesOf(1000, i))
    a.reset(16)
    expect(a.figures).toMatchObject({ slabs: 0, liveBytes: 0, garbageBytes: 0, ownBytes: 0 })
    expect(a.wantsCompaction).toBe(false)
    a.grow(64)
    a.put(40, bytesOf(5, 5))
    expect(a.at(40)).toEqual(bytesOf(5, 5))
  })

  it('reads every live entry back exactly after any steps of writes, frees and compaction (against a Map)', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('put' as const), slot: fc.nat(63), length: fc.oneof(fc.nat(64), fc.integer({ min: 1000, max: 5000 })), seed: fc.nat(255) }),
      fc.record({ op: fc.constant('big' as const), slot: fc.nat(63), seed: fc.nat(255) }),
      fc.record({ op: fc.constant('free' as const), slot: fc.nat(63) }),
      fc.record({ op: fc.constant('slice' as const) }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const a = new ByteArena(16, SMALL_BOUND)
        a.grow(64)
        const model = new Map<number, Uint8Array>()
        for (const s of steps) {
          if (s.op === 'slice') a.compactSlice()
          else if (s.op === 'free') {
            if (model.has(s.slot)) a.free(s.slot)
            model.delete(s.slot)
          } else {
            const bytes = s.op === 'big' ? bytesOf(a.sliceBytes + 1, s.seed) : bytesOf(s.length, s.seed)
            if (model.has(s.slot)) a.free(s.slot)
            a.put(s.slot, bytes)
            model.set(s.slot, bytes.slice())
          }
          for (const [slot, bytes] of model) if (!same(a.at(slot), bytes)) expect.fail(`slot ${slot} changed`)
        }
        const live = [...model.values()].filter((b) => b.byteLength <= a.sliceBytes - RECORD_HEADER)
        expect(a.figures.liveBytes).toBe(live.reduce((sum, b) => sum + b.byteLength + RECORD_HEADER, 0))
      }),
      { numRuns: 200 },
    )
  })
})
