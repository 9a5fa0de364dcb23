import { describe, expect, it } from 'vitest'
import { hashKey } from '../../src/policies/key-hash.js'

describe('hashKey', () => {
  it('is FNV-1a: stable, 32-bit, and different for near keys', () => {
    expect(hashKey('')).toBe(0x811c9dc5)
    expect(hashKey('a')).toBe(0xe40c292c)
    expect(hashKey('user:1')).not.toBe(hashKey('user:2'))
    expect(hashKey('x'.repeat(1000))).toBeLessThan(2 ** 32)
  })
})
