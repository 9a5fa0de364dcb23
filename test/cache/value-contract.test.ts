import { describe, expect, it } from 'vitest'
import { type CacheOptions, createCache } from '../../src/index.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-contract-')

interface Doc {
  name: string
  nested: { list: number[] }
}
const doc = (): Doc => ({ name: 'a', nested: { list: [1, 2] } })

/** Each configuration, with a way to push key 'k' out of hot into the tier below (when there is one). */
const configurations: [string, () => Promise<CacheOptions<Doc>>][] = [
  ['hot alone', async () => ({ hot: { maxEntries: 2 } })],
  ['hot and warm', async () => ({ hot: { maxEntries: 2, policy: 'lru' }, warm: { maxBytes: 1 << 20 } })],
  ['hot and cold', async () => ({ hot: { maxEntries: 2, policy: 'lru' }, cold: { dir: await tempDir() } })],
]

describe('one value contract in every configuration: a stored value is frozen data', () => {
  for (const [name, options] of configurations) {
    it(`${name}: the value set cannot change after, neither can what get returns, wherever it is held`, async () => {
      const cache = createCache<Doc>(await options())
      const value = doc()
      await cache.set('k', value)
      expect(() => {
        value.nested.list.push(3)
      }).toThrow(TypeError)
      expect(() => {
        ;(value as { name: string }).name = 'changed'
      }).toThrow(TypeError)
      const got = (await cache.get('k')) as Doc
      expect(() => {
        got.nested.list[0] = 9
      }).toThrow(TypeError)
      // Down to the next tier (if any) and back: the same contract.
      await cache.set('x', doc())
      await cache.set('y', doc())
      const again = (await cache.get('k')) as Doc
      expect(again).toEqual(doc())
      expect(Object.isFrozen(again) && Object.isFrozen(again.nested) && Object.isFrozen(again.nested.list)).toBe(true)
      expect(cache.peek('k')).toEqual(doc())
      await cache.close()
    })
  }

  it(`values: 'any' keeps values by reference and leaves them as they are (hot alone)`, async () => {
    const cache = createCache<Doc>({ values: 'any' })
    const value = doc()
    await cache.set('k', value)
    value.nested.list.push(3)
    expect(await cache.get('k')).toBe(value)
    expect(Object.isFrozen(value)).toBe(false)
    await cache.close()
  })

  it('a value the check refuses is left unfrozen', async () => {
    const cache = createCache<unknown>()
    const value = { ok: { deep: [1] }, bad: Object.create(null) as object }
    await expect(cache.set('k', value)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(Object.isFrozen(value) || Object.isFrozen(value.ok)).toBe(false)
    await cache.close()
  })
})
