import { describe, expect, it } from 'vitest'
import { PredictionScore } from '../../src/prefetch/prediction-score.js'
import { PrefetchBuffer } from '../../src/prefetch/prefetch-buffer.js'

describe('PredictionScore', () => {
  it('is the share of used loads among the last window of verdicts', () => {
    const score = new PredictionScore({ window: 4 })
    expect(score.accuracy).toBe(1)
    for (const used of [false, false, true]) score.judge(used)
    expect(score.judged).toBe(3)
    expect(score.accuracy).toBeCloseTo(1 / 3)
    for (const used of [true, true, true]) score.judge(used)
    expect(score.accuracy).toBe(1) // the two wrong ones fell out of the window
  })

  it('judges a held prediction as the buffer would: right when read while it waits, wrong when pushed out or written first', () => {
    const score = new PredictionScore({ window: 8, shadowCapacity: 2 })
    score.held('a')
    score.held('b')
    score.held('a') // already waiting: nothing changes
    expect(score.holding).toBe(2)
    score.accessed('a')
    expect([score.judged, score.accuracy]).toEqual([1, 1])
    score.held('c')
    score.held('d') // pushes b out unread
    expect([score.judged, score.accuracy]).toEqual([2, 0.5])
    score.written('c')
    expect([score.judged, score.accuracy]).toEqual([3, 1 / 3])
    score.accessed('x') // never predicted: no verdict
    expect(score.judged).toBe(3)
  })

  it('leaves to a load the verdict on a held key that is then loaded, and gives none to what clear() drops', () => {
    const score = new PredictionScore({ shadowCapacity: 4 })
    score.held('a')
    score.loading('a')
    score.accessed('a')
    expect(score.judged).toBe(0)
    score.held('b')
    score.cleared()
    score.written('b')
    expect([score.judged, score.holding]).toEqual([0, 0])
  })

  it('hears from the prefetch buffer how each value left it: taken is right, pushed out or stale is wrong, cleared is nothing', () => {
    const score = new PredictionScore()
    const buffer = new PrefetchBuffer<string>(2, (_key, used) => score.judge(used))
    buffer.put('a', 'A')
    buffer.put('b', 'B')
    expect(buffer.take('a')).toBe('A')
    expect(buffer.take('a')).toBeUndefined() // gone: no second verdict
    buffer.put('c', 'C')
    buffer.put('d', 'D') // pushes b out unread
    buffer.drop('c') // written before it was read
    buffer.drop('zz') // nothing waited
    expect([score.judged, score.accuracy]).toEqual([3, 1 / 3])
    buffer.clear()
    expect(score.judged).toBe(3)
    expect(buffer.wasted).toBe(2)
  })
})
