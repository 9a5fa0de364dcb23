import { describe, expect, it } from 'vitest'
import { compareStreamIds, infoField, readEntries } from '../../src/coherence/stream-replies.js'

describe('stream replies', () => {
  it('orders stream ids by time, then sequence, as numbers', () => {
    expect(compareStreamIds('9-0', '10-0')).toBe(-1)
    expect(compareStreamIds('10-2', '10-10')).toBe(-1)
    expect(compareStreamIds('10-10', '10-2')).toBe(1)
    expect(compareStreamIds('10', '10-0')).toBe(0)
    expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-0')).toBe(1)
  })

  it('reads XREAD replies of RESP2 (a list) and RESP3 (a map, or an object), and a timed-out block', () => {
    const entries = [
      ['1-0', ['o', 'a']],
      ['2-0', ['o', 'b']],
    ]
    const expected = [
      ['1-0', ['o', 'a']],
      ['2-0', ['o', 'b']],
    ]
    expect(readEntries([['bus', entries]])).toEqual(expected)
    expect(readEntries(new Map([['bus', entries]]))).toEqual(expected)
    expect(readEntries({ bus: entries })).toEqual(expected)
    expect(readEntries(null)).toEqual([])
  })

  it('finds XINFO fields in a flat list, a map or an object', () => {
    expect(infoField(['length', 3, 'entries-added', 5], 'entries-added')).toBe(5)
    expect(infoField(new Map([['length', 3]]), 'length')).toBe(3)
    expect(infoField({ length: 3 }, 'length')).toBe(3)
    expect(infoField(['length', 3], 'first-entry')).toBeUndefined()
  })
})
