import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SuccessorPredictor, type SuccessorOptions } from '../../src/prefetch/successor-predictor.js'

/** Feeds the keys one by one; what was predicted after each. */
function feed(successors: SuccessorPredictor, keys: readonly string[]): string[][] {
  return keys.map((key) => {
    const into: string[] = []
    successors.next(key, into)
    return into
  })
}

/**
 * Whether `b` followed two consecutive occurrences of `a` in `log` (the
 * reads so far): the admission rule, checked from the whole history. An
 * occurrence's successors are the keys read in the next `w` accesses, cut
 * short by the next read of `a`.
 */
function followedTwiceInARow(log: readonly string[], a: string, b: string, w: number): boolean {
  const at: number[] = []
  for (let i = 0; i < log.length; i++) if (log[i] === a) at.push(i)
  const followed = at.map((p, i) => log.slice(p + 1, Math.min(p + w, (at[i + 1] ?? Infinity) - 1) + 1).includes(b))
  return followed.some((yes, i) => yes && i > 0 && followed[i - 1])
}

/**
 * Eight clients read side by side, one read each per round in an order
 * drawn anew every round: client 0 walks the chain user:1 → settings:1 →
 * feed:1 again and again (with 0–2 reads of its own between chains), the
 * seven others read keys that are never read twice.
 */
const interleaved = fc
  .record({
    gaps: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 8, maxLength: 8 }),
    orders: fc.array(fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7], { minLength: 8, maxLength: 8 }), { minLength: 48, maxLength: 48 }),
    noise: fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000_000 }), { minLength: 400, maxLength: 400 }),
  })
  .map(({ gaps, orders, noise: drawn }) => {
    const noise = [...drawn] // taken from below: fast-check may hand the same value over again
    const chain = ['user:1', 'settings:1', 'feed:1']
    const mine = gaps.flatMap((gap) => [...chain, ...Array.from({ length: gap }, () => `own:${noise.pop()}`)])
    const reads: { client: number; key: string }[] = []
    for (const order of orders) {
      for (const client of order) {
        if (client === 0) {
          const key = mine.shift()
          if (key !== undefined) reads.push({ client, key })
        } else {
          reads.push({ client, key: `obj:${noise.pop()}` })
        }
      }
    }
    return reads
  })

describe('SuccessorPredictor', () => {
  it('predicts B after A once B followed A in two consecutive occurrences', () => {
    const successors = new SuccessorPredictor()
    expect(feed(successors, ['A', 'B', 'C', 'A', 'B'])).toEqual([[], [], [], [], []])
    expect(feed(successors, ['A'])).toEqual([['B']]) // C followed A only once
  })

  it('does not predict a key that followed A once, nor one that followed two occurrences of A apart', () => {
    const successors = new SuccessorPredictor()
    // X follows the 1st and 3rd A, Y the 2nd and 4th: neither two in a row.
    const predicted = feed(successors, ['A', 'X', 'A', 'Y', 'A', 'X', 'A', 'Y', 'A'])
    expect(predicted.flat()).toEqual([])
  })

  it('learns a chain read by one of eight interleaved clients, and never predicts the others’ one-off keys', () => {
    fc.assert(
      fc.property(interleaved, (reads) => {
        const successors = new SuccessorPredictor() // window 16: one read by each client per round keeps a client's steps within 15
        let users = 0
        let settings = 0
        for (const { client, key } of reads) {
          const into: string[] = []
          successors.next(key, into)
          for (const predicted of into) expect(predicted).toMatch(/^(user|settings|feed):1$/) // client 0's own habit only
          if (client !== 0) continue
          if (key === 'user:1' && ++users >= 3) expect(into).toContain('settings:1')
          if (key === 'settings:1' && ++settings >= 3) expect(into).toContain('feed:1')
        }
        expect(users).toBe(8)
      }),
      { numRuns: 100 },
    )
  })

  it('predicts nothing that did not follow its predecessor twice in a row, and stays within its bounds (any stream)', () => {
    const options: SuccessorOptions = { maxKeys: 4, window: 3, candidates: 2, halveAt: 4 }
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g'), { maxLength: 300 }), (keys) => {
        const successors = new SuccessorPredictor(options)
        const log: string[] = []
        for (const key of keys) {
          const into: string[] = []
          successors.next(key, into)
          log.push(key)
          expect(successors.size).toBeLessThanOrEqual(4)
          expect(into.length).toBeLessThanOrEqual(2)
          expect(successors.candidatesOf(key).length).toBeLessThanOrEqual(2)
          for (const predicted of into) {
            expect(predicted).not.toBe(key)
            expect(followedTwiceInARow(log, key, predicted, 3)).toBe(true)
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('never tracks more keys than its cap, and keeps a key read again through a flood of one-off keys', () => {
    const successors = new SuccessorPredictor({ maxKeys: 8 })
    const predictedAfterA: string[][] = []
    for (let round = 0; round < 50; round++) {
      const into: string[] = []
      successors.next('A', into)
      predictedAfterA.push(into)
      successors.next('B', [])
      for (let i = 0; i < 5; i++) successors.next(`once:${round}:${i}`, [])
      expect(successors.size).toBeLessThanOrEqual(8)
    }
    expect(successors.size).toBe(8)
    // 250 one-off keys went through 8 places, and A → B was still learnt and kept.
    expect(predictedAfterA.slice(2)).toEqual(Array(48).fill(['B']))
  })

  it('loses nothing when its records grow (256 places at first, doubled as keys come)', () => {
    const successors = new SuccessorPredictor()
    feed(
      successors,
      Array.from({ length: 256 }, (_, i) => `once:${i}`),
    )
    // A is the 257th key: tracking it grows the records.
    expect(feed(successors, ['A', 'B', 'x', 'A', 'B', 'y', 'A'])).toEqual([[], [], [], [], [], [], ['B']])
    expect(successors.size).toBe(256 + 4)
  })

  it('adapts when the habit changes: the new successor is predicted from the third occurrence, the old one soon dropped', () => {
    const successors = new SuccessorPredictor()
    let filler = 0
    const occurrence = (next: string): string[] => {
      const into: string[] = []
      successors.next('A', into)
      feed(successors, [`x:${filler++}`, next, `x:${filler++}`])
      return into
    }
    for (let i = 0; i < 20; i++) occurrence('B')
    const after = Array.from({ length: 12 }, () => occurrence('C'))
    expect(after[0]).toEqual(['B'])
    expect(after[1]).toEqual(['B'])
    expect(after[2]).toContain('C') // C followed the 1st and 2nd occurrences after the change
    // B's share (hits / trials, halved at H = 8) falls below ½ within five occurrences without it.
    const stopped = after.findIndex((predicted) => !predicted.includes('B'))
    expect(stopped).toBeGreaterThan(0)
    expect(stopped).toBeLessThanOrEqual(5)
    expect(after.slice(stopped)).toEqual(Array(12 - stopped).fill(['C']))
    // C took a free place with its own two sightings: nothing inherited.
    expect(successors.candidatesOf('A').find((c) => c.key === 'C')).toBeDefined()
  })

  it('gives a newcomer only its own counts, and a place only once the weakest has decayed below the threshold', () => {
    const successors = new SuccessorPredictor({ candidates: 1, halveAt: 8 })
    for (let i = 0; i < 10; i++) feed(successors, ['A', 'B'])
    expect(successors.candidatesOf('A')).toEqual([{ key: 'B', hits: expect.any(Number), trials: expect.any(Number) }])
    const strong = successors.candidatesOf('A')[0]
    expect(strong.hits).toBeGreaterThan(2)
    // C follows A twice in a row, but B still holds the only place at a share ≥ 0.5: C is not admitted.
    feed(successors, ['A', 'C', 'A', 'C'])
    expect(successors.candidatesOf('A').map((c) => c.key)).toEqual(['B'])
    // Keep going: B's share decays below 0.5, then C takes the place, from 2 hits, not B's count.
    let taken: { key: string; hits: number; trials: number } | undefined
    for (let i = 0; i < 10 && taken === undefined; i++) {
      feed(successors, ['A', 'C'])
      taken = successors.candidatesOf('A').find((c) => c.key === 'C')
    }
    expect(taken).toEqual({ key: 'C', hits: 2, trials: 1 })
  })
})
