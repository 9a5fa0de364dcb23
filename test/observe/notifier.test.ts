import { describe, expect, it } from 'vitest'
import { Notifier } from '../../src/observe/notifier.js'
import { Watchers } from '../../src/observe/watchers.js'
import { TagIndex } from '../../src/tags/tag-index.js'
import { VirtualClock } from '../helpers/virtual-time.js'

describe('Notifier', () => {
  it('tells the watchers it was given at construction of every change of a value', () => {
    const clock = new VirtualClock()
    const watchers = new Watchers<string>({ current: () => undefined, expiryOf: () => 0, due: () => undefined }, clock)
    const notifier = new Notifier<string>(clock, watchers)
    const seen: (string | undefined)[] = []
    watchers.watch('k').subscribe((value) => seen.push(value))
    notifier.written('k', 'a', 0, undefined)
    notifier.deleted('k')
    notifier.written('k', 'b', 0, undefined)
    notifier.expired('k')
    notifier.written('k', 'c', 0, undefined)
    notifier.cleared()
    expect(seen).toEqual([undefined, 'a', undefined, 'b', undefined, 'c', undefined])
  })

  it('counts and tells events without watchers or a tag index', () => {
    const notifier = new Notifier<string>(new VirtualClock())
    notifier.written('k', 'a', 0, ['t'])
    notifier.deleted('k')
    notifier.cleared()
    expect(notifier.counters).toMatchObject({ sets: 1, deletes: 1 })
  })

  it('keeps the tag index it was given in step with the values: a key leaves it when its value goes, every key on clear', () => {
    const tags = new TagIndex()
    const notifier = new Notifier<string>(new VirtualClock(), undefined, tags)
    notifier.written('a', '1', 0, ['t'])
    notifier.written('b', '2', 0, ['t', 'u'])
    notifier.written('c', '3', 0, ['u'])
    expect(tags.keysOf('t')).toEqual(['a', 'b'])
    notifier.written('a', '1b', 0, undefined)
    notifier.expired('b')
    expect(tags.keysOf('t')).toEqual([])
    expect(tags.keysOf('u')).toEqual(['c'])
    notifier.evicted('c', 'hot', 'capacity')
    expect(tags.keysOf('u')).toEqual([])
    notifier.written('d', '4', 0, ['t'])
    notifier.cleared()
    expect(tags.keysOf('t')).toEqual([])
    expect(tags.size).toBe(0)
  })
})
