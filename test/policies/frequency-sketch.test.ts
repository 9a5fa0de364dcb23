import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrequencySketch } from '../../src/policies/frequency-sketch.js'
import { hashKey } from '../../src/policies/key-hash.js'

const NO_RESET = { samplePeriod: Number.MAX_SAFE_INTEGER }

/** Hashes of real keys, as the tier passes them. */
const keyHashes = (count: number): number[] => [...Array(count).keys()].map((i) => hashKey(`key:${i}`))

describe('FrequencySketch', () => {
  it('never under-counts before a reset, and never says more than 15', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.nat(199), { maxLength: 600 }), (entries, picks) => {
        const sketch = new FrequencySketch(entries, NO_RESET)
        const hashes = keyHashes(200)
        const exact = new Map<number, number>()
        for (const pick of picks) {
          sketch.increment(hashes[pick])
          exact.set(pick, (exact.get(pick) ?? 0) + 1)
        }
        for (let pick = 0; pick < hashes.length; pick++) {
          const estimate = sketch.frequency(hashes[pick])
          expect(estimate).toBeGreaterThanOrEqual(Math.min(15, exact.get(pick) ?? 0))
          expect(estimate).toBeLessThanOrEqual(15)
        }
      }),
    )
  })

  it('is exact for a few keys in a wide sketch', () => {
    const sketch = new FrequencySketch(1024, NO_RESET)
    const [a, b, c] = keyHashes(3)
    for (let i = 0; i < 3; i++) sketch.increment(a)
    sketch.increment(b)
    expect([sketch.frequency(a), sketch.frequency(b), sketch.frequency(c)]).toEqual([3, 1, 0])
  })

  it('saturates at 15', () => {
    const sketch = new FrequencySketch(64, NO_RESET)
    const [hash] = keyHashes(1)
    for (let i = 0; i < 100; i++) sketch.increment(hash)
    expect(sketch.frequency(hash)).toBe(15)
    // Saturated increments raise no counter, so they do not count toward the reset.
    expect(sketch.additions).toBe(15)
  })

  it('halves every estimate on reset', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(99), { maxLength: 800 }), (picks) => {
        const sketch = new FrequencySketch(32, NO_RESET)
        const hashes = keyHashes(100)
        for (const pick of picks) sketch.increment(hashes[pick])
        const before = hashes.map((hash) => sketch.frequency(hash))
        sketch.halve()
        expect(hashes.map((hash) => sketch.frequency(hash))).toEqual(before.map((count) => count >> 1))
      }),
    )
  })

  it('resets on its own when additions reach the sample period (a sketch of one block: at once)', () => {
    const sketch = new FrequencySketch(8, { samplePeriod: 20 })
    const [a, b] = keyHashes(2)
    for (let i = 0; i < 10; i++) sketch.increment(a)
    for (let i = 0; i < 9; i++) sketch.increment(b)
    expect([sketch.frequency(a), sketch.frequency(b), sketch.additions]).toEqual([10, 9, 19])
    sketch.increment(b) // the 20th addition
    expect([sketch.frequency(a), sketch.frequency(b)]).toEqual([5, 5])
    // Both counts were even: no odd counter lost a half, so exactly half the additions remain.
    expect(sketch.additions).toBe(10)
  })

  it('spreads a reset over the increments that follow it, one block each', () => {
    const sketch = new FrequencySketch(1024, { samplePeriod: 1000 })
    const blocks = sketch.width / 32
    expect(blocks).toBe(128)
    const hashes = keyHashes(101)
    const saturated = hashes.pop() as number
    for (let i = 0; i < 15; i++) sketch.increment(saturated)
    for (let i = 0; sketch.additions < 999; i++) sketch.increment(hashes[i % hashes.length])
    const before = hashes.map((hash, k) => sketch.frequency(hash) + (k === 0 ? 1 : 0))
    sketch.increment(hashes[0]) // the 1,000th addition: the reset begins with block 0
    expect(sketch.resetting).toBe(true)
    const notYetHalved = hashes.filter((hash, k) => sketch.frequency(hash) === before[k]).length
    expect(notYetHalved).toBeGreaterThan(90)
    const expected = before.map((count) => count >> 1)
    // Increments of a saturated key change no count until its block is reached, and carry the reset on.
    for (let i = 1; i < blocks - 1; i++) sketch.increment(saturated)
    expect(sketch.resetting).toBe(true)
    sketch.increment(saturated)
    expect(sketch.resetting).toBe(false)
    expect(hashes.map((hash) => sketch.frequency(hash))).toEqual(expected)
  })

  it('defaults its sample period to ten per entry and follows growth', () => {
    const sketch = new FrequencySketch(64)
    expect(sketch.samplePeriod).toBe(640)
    expect(sketch.width).toBe(256)
    sketch.ensureCapacity(100)
    expect(sketch.samplePeriod).toBe(1000)
    expect(sketch.width).toBe(512)
  })

  it('keeps every estimate when it grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 4096 }), fc.array(fc.nat(299), { maxLength: 500 }), (entries, grownTo, picks) => {
        const sketch = new FrequencySketch(entries, NO_RESET)
        const hashes = keyHashes(300)
        for (const pick of picks) sketch.increment(hashes[pick])
        const before = hashes.map((hash) => sketch.frequency(hash))
        sketch.ensureCapacity(entries + grownTo)
        expect(hashes.map((hash) => sketch.frequency(hash))).toEqual(before)
      }),
    )
  })

  it('widens within its reserve to the same estimates as without one, across resets and growth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.oneof(fc.nat(299), fc.constant(-1)), { maxLength: 600 }), (entries, steps) => {
        const reserve = entries * 32
        const plain = new FrequencySketch(entries)
        const reserved = new FrequencySketch(entries, { reserve })
        const hashes = keyHashes(300)
        let size = entries
        for (const step of steps) {
          // -1: the tier doubles, as a slot table does up to its limit.
          if (step === -1) {
            size = Math.min(2 * size, reserve)
            plain.ensureCapacity(size)
            reserved.ensureCapacity(size)
          } else {
            plain.increment(hashes[step])
            reserved.increment(hashes[step])
          }
        }
        expect([reserved.width, reserved.samplePeriod, reserved.additions]).toEqual([plain.width, plain.samplePeriod, plain.additions])
        expect(hashes.map((hash) => reserved.frequency(hash))).toEqual(hashes.map((hash) => plain.frequency(hash)))
      }),
    )
  })

  it('allocates its whole reserve at once: widening within it allocates nothing', () => {
    const reserve = 1 << 18
    const before = process.memoryUsage().arrayBuffers
    const sketch = new FrequencySketch(64, { reserve })
    const reservedBytes = process.memoryUsage().arrayBuffers - before
    expect(reservedBytes).toBeGreaterThanOrEqual(8 * reserve)
    for (let entries = 128; entries <= reserve; entries *= 2) sketch.ensureCapacity(entries)
    expect(sketch.width).toBe(4 * reserve)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(reservedBytes + 4096)
  })

  it('forgets everything on clear', () => {
    const sketch = new FrequencySketch(64)
    const [hash] = keyHashes(1)
    sketch.increment(hash)
    sketch.clear()
    expect([sketch.frequency(hash), sketch.additions]).toEqual([0, 0])
  })

  it('gives the same estimates with increments held back by incrementSoon as with increment, across resets and growth', () => {
    type Step = { op: 'now' | 'soon' | 'read'; pick: number } | { op: 'grow'; pick: number }
    const step = fc.oneof(
      fc.record({ op: fc.constantFrom<'now' | 'soon' | 'read'>('now', 'soon', 'soon', 'soon', 'read'), pick: fc.nat(99) }),
      fc.record({ op: fc.constant<'grow'>('grow'), pick: fc.integer({ min: 1, max: 256 }) }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.array<Step>(step, { maxLength: 800 }), (entries, steps) => {
        const held = new FrequencySketch(entries)
        const direct = new FrequencySketch(entries)
        const hashes = keyHashes(100)
        for (const { op, pick } of steps) {
          if (op === 'grow') {
            held.ensureCapacity(pick)
            direct.ensureCapacity(pick)
          } else if (op === 'read') {
            expect(held.frequency(hashes[pick])).toBe(direct.frequency(hashes[pick]))
          } else {
            if (op === 'now') held.increment(hashes[pick])
            else held.incrementSoon(hashes[pick])
            direct.increment(hashes[pick])
          }
        }
        expect(held.additions).toBe(direct.additions)
        for (const hash of hashes) expect(held.frequency(hash)).toBe(direct.frequency(hash))
      }),
    )
  })

  it('drops held-back increments on clear', () => {
    const sketch = new FrequencySketch(1024, NO_RESET)
    const [hash] = keyHashes(1)
    for (let i = 0; i < 63; i++) sketch.incrementSoon(hash)
    sketch.clear()
    expect([sketch.frequency(hash), sketch.additions]).toEqual([0, 0])
  })
})
