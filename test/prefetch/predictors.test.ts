import { describe, expect, it } from 'vitest'
import { StridePredictor } from '../../src/prefetch/stride-predictor.js'

describe('StridePredictor', () => {
  it('predicts the next key once the same step came twice', () => {
    const stride = new StridePredictor()
    expect(stride.next('page:10')).toBeUndefined()
    expect(stride.next('page:12')).toBeUndefined()
    expect(stride.next('page:14')).toBe('page:16')
    expect(stride.next('page:16')).toBe('page:18')
  })

  it('follows walks downward and keeps zero padding', () => {
    const stride = new StridePredictor()
    for (const key of ['img009', 'img008']) stride.next(key)
    expect(stride.next('img007')).toBe('img006')
  })

  it('keeps walks under different prefixes apart, and forgets a broken one', () => {
    const stride = new StridePredictor()
    for (const key of ['a:1', 'b:10', 'a:2', 'b:20']) stride.next(key)
    expect(stride.next('a:3')).toBe('a:4')
    expect(stride.next('b:30')).toBe('b:40')
    expect(stride.next('b:31')).toBeUndefined()
  })

  it('follows walks of the same prefix side by side, as concurrent callers make them', () => {
    const stride = new StridePredictor()
    const predicted: (string | undefined)[] = []
    for (const key of ['item:100', 'item:5000', 'item:101', 'item:5001', 'item:102', 'item:5002']) predicted.push(stride.next(key))
    expect(predicted).toEqual([undefined, undefined, undefined, undefined, 'item:103', 'item:5003'])
  })

  it('gives the least recently moved walk up for a new one', () => {
    const stride = new StridePredictor({ walksPerPrefix: 2 })
    for (const key of ['w:100', 'w:101', 'w:5000', 'w:9000']) stride.next(key) // w:9000 replaces the walk at 100
    expect(stride.next('w:102')).toBeUndefined()
  })

  it('ignores keys without a trailing number and remembers a bounded number of prefixes', () => {
    const stride = new StridePredictor({ maxPrefixes: 2 })
    expect(stride.next('user')).toBeUndefined()
    for (const key of ['a:1', 'a:2', 'b:1', 'c:1']) stride.next(key)
    expect(stride.next('a:3')).toBeUndefined() // 'a' was forgotten when 'c' came
  })
})
