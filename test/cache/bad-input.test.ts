import { describe, expect, it } from 'vitest'
import { CacheError, createCache } from '../../src/index.js'

const badKeys: [string, unknown][] = [
  ['an empty string', ''],
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['an object', { key: 'a' }],
  ['a key longer than maxKeyLength', 'k'.repeat(17)],
]

class Point {
  x = 1
}

describe('bad keys', () => {
  const cache = createCache<number>({ maxKeyLength: 16 })

  it.each(badKeys)('rejects %s with E_INVALID_KEY in every operation', async (_, key) => {
    const k = key as string
    for (const operation of [
      () => cache.get(k),
      () => cache.set(k, 1),
      () => cache.has(k),
      () => cache.delete(k),
      () => cache.getOrSet(k, () => 1),
      () => cache.getMany(['ok', k]),
      () => cache.setMany([{ key: k, value: 1 }]),
      () => cache.deleteMany([k]),
    ]) {
      await expect(operation()).rejects.toMatchObject({ name: 'CacheError', code: 'E_INVALID_KEY' })
    }
    expect(() => cache.peek(k)).toThrow(CacheError)
    expect(() => cache.watch(k)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
  })

  it('rejects a key holding a lone surrogate in every write, and in a get that would load it, leaving what is stored', async () => {
    const loaded: string[] = []
    const cache = createCache<number>({ loader: (key) => (loaded.push(key), 1) })
    const illFormed = 'user:\ud83d'
    await cache.set('user:1', 1)
    for (const write of [
      () => cache.set(illFormed, 2),
      () => cache.getOrSet(illFormed, () => 2),
      () =>
        cache.setMany([
          { key: 'user:1', value: 2 },
          { key: illFormed, value: 2 },
        ]),
      () => cache.get(illFormed),
    ]) {
      await expect(write()).rejects.toMatchObject({ code: 'E_INVALID_KEY', message: expect.stringContaining('lone surrogate') })
    }
    expect(loaded).toEqual([])
    // Reads and deletes of it are fine: nothing is stored under it.
    expect(cache.peek(illFormed)).toBeUndefined()
    expect(await cache.has(illFormed)).toBe(false)
    expect(await cache.delete(illFormed)).toBe(false)
    expect(await cache.get('user:1')).toBe(1)
    // A well-formed pair is a key like any other.
    await cache.set('user:\ud83d\ude00', 3)
    expect(await cache.get('user:\ud83d\ude00')).toBe(3)
    await cache.close()
  })

  it('accepts a key of exactly maxKeyLength', async () => {
    await cache.set('k'.repeat(16), 1)
    expect(await cache.get('k'.repeat(16))).toBe(1)
  })
})

describe('bad values', () => {
  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
  ])('rejects %s with E_INVALID_VALUE and keeps the previous value', async (_, value) => {
    const cache = createCache<unknown>()
    await cache.set('k', 'previous')
    await expect(cache.set('k', value)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.get('k')).toBe('previous')
    await cache.close()
  })

  it.each([
    ['a class instance', new Point()],
    ['a nested function', { handler: () => 1 }],
    ['a symbol in an array', [Symbol('s')]],
  ])('rejects %s at set while a byte tier is configured', async (_, value) => {
    const cache = createCache<unknown>({ warm: { maxBytes: 1 << 20 } })
    await cache.set('k', 'previous')
    await expect(cache.set('k', value)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.get('k')).toBe('previous')
    await cache.close()
  })

  it('refuses a class instance in every configuration, hot alone too, so that adding warm or cold changes nothing', async () => {
    for (const options of [{}, { warm: { maxBytes: 1 << 20 } }]) {
      const cache = createCache<Point>(options)
      await expect(cache.set('p', new Point())).rejects.toMatchObject({ code: 'E_INVALID_VALUE', message: expect.stringContaining('Point') })
      await cache.close()
    }
  })

  it(`keeps a class instance by reference with values: 'any', which only hot alone allows`, async () => {
    const cache = createCache<Point>({ values: 'any' })
    const point = new Point()
    await cache.set('p', point)
    expect(await cache.get('p')).toBe(point)
    await cache.close()
    expect(() => createCache<Point>({ values: 'any', warm: { maxBytes: 1 << 20 } })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTIONS' }))
    expect(() => createCache<Point>({ values: 'anything' as 'any' })).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTIONS' }))
  })

  it('checks a custom codec without a check of its own by encoding the value', async () => {
    const codec = {
      name: 'json',
      encode: (value: unknown) => {
        if (typeof value === 'object' && value !== null && 'bad' in value) throw new Error('no')
        return Buffer.from(JSON.stringify(value))
      },
      decode: (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString()) as unknown,
    }
    const cache = createCache<object>({ warm: { maxBytes: 1 << 20 }, codec })
    await expect(cache.set('k', { bad: 1 })).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await cache.set('k', { good: 1 })
    await cache.close()
  })

  it('stores nothing from setMany when one entry is bad', async () => {
    const cache = createCache<unknown>()
    await cache.set('a', 'kept')
    await expect(
      cache.setMany([
        { key: 'a', value: 'replaced' },
        { key: 'b', value: undefined },
      ]),
    ).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(await cache.getMany(['a', 'b'])).toEqual(['kept', undefined])
    await cache.close()
  })
})

describe('bad entry options', () => {
  it.each([
    ['ttl', { ttl: 0 }],
    ['ttl', { ttl: -5 }],
    ['ttl', { ttl: Number.NaN }],
    ['ttl', { ttl: '10' }],
    ['tags', { tags: 'users' }],
    ['tags', { tags: [''] }],
    ['tags', { tags: [1] }],
  ])('rejects a bad %s with E_INVALID_OPTIONS naming it, and keeps the previous value', async (name, options) => {
    const cache = createCache<string>()
    await cache.set('k', 'previous')
    await expect(cache.set('k', 'next', options as never)).rejects.toMatchObject({
      code: 'E_INVALID_OPTIONS',
      message: expect.stringContaining(`'${name}'`),
    })
    expect(await cache.get('k')).toBe('previous')
    await cache.close()
  })

  it('rejects an unknown entry option, naming it, in set, setMany and getOrSet, storing nothing', async () => {
    const cache = createCache<string>()
    await cache.set('k', 'previous')
    const unknown = (name: string) => ({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`option '${name}' is not a known option`) })
    await expect(cache.set('k', 'next', { ttL: 5 } as never)).rejects.toMatchObject(unknown('ttL'))
    await expect(cache.setMany([{ key: 'k', value: 'next', tag: ['a'] } as never])).rejects.toMatchObject(unknown('tag'))
    await expect(cache.getOrSet('g', () => 'next', { expires: 5 } as never)).rejects.toMatchObject(unknown('expires'))
    expect(await cache.get('k')).toBe('previous')
    expect(await cache.has('g')).toBe(false)
    // A setMany entry's own key and value, and known options, are fine.
    await cache.setMany([{ key: 'k', value: 'next', ttl: 10_000, tags: ['a'] }])
    await cache.close()
  })

  it.each([
    ['an array', []],
    ['a string', 'ttl'],
    ['null', null],
  ])('rejects %s as entry options with E_INVALID_OPTIONS', async (_, options) => {
    const cache = createCache<string>()
    await expect(cache.set('k', 'v', options as never)).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'options'`) })
    await expect(cache.getOrSet('k', () => 'v', options as never)).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' })
    await cache.close()
  })

  it('rejects a getOrSet factory that is not a function', async () => {
    const cache = createCache()
    await expect(cache.getOrSet('k', 'value' as never)).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' })
    await cache.close()
  })

  it('rejects a bad tag for deleteByTag', async () => {
    const cache = createCache()
    await expect(cache.deleteByTag('')).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' })
    await cache.close()
  })
})

describe('bad cache options', () => {
  it.each([
    ['hot.maxEntries', { hot: { maxEntries: 0 } }],
    ['hot.maxEntries', { hot: { maxEntries: 1.5 } }],
    ['hot.maxBytes', { hot: { maxBytes: -1 } }],
    ['hot.policy', { hot: { policy: 'fifo' } }],
    ['hot.maxentries', { hot: { maxentries: 5 } }],
    ['hot', { hot: 5 }],
    ['warm', { warm: true }],
    ['warm.maxBytes', { warm: {} }],
    ['warm.maxBytes', { warm: { maxBytes: Infinity } }],
    ['warm.policy', { warm: { maxBytes: 10, policy: 'random' } }],
    ['ttl', { ttl: 0 }],
    ['scheduler', { scheduler: {} }],
    ['codec', { codec: { encode: 1 } }],
    ['statsInterval', { statsInterval: 0 }],
    ['maxKeyLength', { maxKeyLength: 2.5 }],
    ['maxKeyLength', { maxKeyLength: 21_846 }],
    ['maxValueBytes', { maxValueBytes: 0 }],
    ['maxValueBytes', { maxValueBytes: 1.5 }],
    ['tll', { tll: 5 }],
  ])('throws E_INVALID_OPTIONS naming %s', (name, options) => {
    let thrown: unknown
    try {
      createCache(options as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(CacheError)
    expect(thrown).toMatchObject({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'${name}'`) })
  })
})
