import { describe, expect, it } from 'vitest'
import { type CacheOptions, createCache } from '../../src/index.js'
import { tempDirs } from '../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-values-')
const MiB = 1 << 20

function sharedDag(levels: number): unknown {
  let node: unknown = { leaf: true }
  for (let i = 0; i < levels; i++) node = { a: node, b: node }
  return node
}

function cpuMs(work: () => unknown): number {
  const start = process.cpuUsage()
  work()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/** Every configuration that reads a value at set: hot with a heap bound, warm, cold. */
async function configurations(): Promise<[string, CacheOptions][]> {
  return [
    ['hot only', {}],
    ['hot only, bounded in bytes, no maxValueBytes', { hot: { maxBytes: 1 << 20 }, maxValueBytes: Infinity }],
    ['warm', { warm: { maxBytes: 1 << 20 } }],
    ['cold', { cold: { dir: await tempDir() } }],
  ]
}

describe('values with shared references and deep nesting', () => {
  it.each([
    ['warm', { warm: { maxBytes: 1 << 20 } }],
    ['hot only', {}],
  ] as [string, CacheOptions][])('accepts a 40-level DAG of shared references (%s) in well under 50 ms of CPU', async (_, options) => {
    const cache = createCache(options)
    const dag = sharedDag(40)
    let written: Promise<void> | undefined
    expect(cpuMs(() => (written = cache.set('dag', dag)))).toBeLessThan(50)
    await written
    expect(await cache.get('dag')).toBe(dag)
    await cache.close()
  })

  it('refuses a 100,000-deep nested array with a byte tier, without overflowing the stack, and keeps the previous value', async () => {
    let deep: unknown = []
    for (let i = 0; i < 100_000; i++) deep = [deep]
    const cache = createCache<unknown>({ warm: { maxBytes: 1 << 20 } })
    await cache.set('k', 'previous')
    await expect(cache.set('k', deep)).rejects.toMatchObject({ code: 'E_INVALID_VALUE', message: expect.stringContaining('nested more than 256') })
    expect(await cache.get('k')).toBe('previous')
    await cache.close()
    // One rule in every configuration: hot alone refuses it too, unless asked to keep any value as it is.
    const hotAlone = createCache<unknown>()
    await expect(hotAlone.set('k', deep)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await hotAlone.close()
    const hot = createCache<unknown>({ values: 'any' })
    await hot.set('k', deep)
    expect(await hot.get('k')).toBe(deep)
    await hot.close()
  })
})

describe('values that would come back changed', () => {
  it.each([
    ['a string holding a lone surrogate', 'a\ud800', 'value: a string holding a lone surrogate'],
    ['a nested one', { list: ['ok', 'b\udc00'] }, 'value.list[1]: a string holding a lone surrogate'],
    ['a Map key holding one', new Map([['\ud800', 1]]), 'value.keys()[0]: a string holding a lone surrogate'],
    ['an object key holding one', { '\ud800': 1 }, 'a property name holding a lone surrogate'],
    ['a null-prototype object', Object.create(null) as object, 'null prototype'],
    ['symbol-keyed properties', { [Symbol('s')]: 1 }, 'symbol-keyed'],
    // biome-ignore lint/suspicious/noSparseArray: a hole is what this case is about.
    ['a sparse array', [1, , 3], 'value[1]: a hole in a sparse array'],
  ])('refuses %s at set with a byte tier, saying what and where', async (_, value, reason) => {
    for (const options of [{ warm: { maxBytes: 1 << 20 } }, { cold: { dir: await tempDir() } }]) {
      const cache = createCache<unknown>(options)
      await cache.set('k', 'previous')
      await expect(cache.set('k', value)).rejects.toMatchObject({ code: 'E_INVALID_VALUE', message: expect.stringContaining(reason) })
      expect(await cache.get('k')).toBe('previous')
      await cache.close()
    }
  })
})

describe('values that throw when read', () => {
  const throwing = (): object => ({
    ok: 1,
    get broken(): number {
      throw new Error('getter failed')
    },
  })
  const revoked = (): object => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    return { inner: proxy }
  }

  it.each([
    ['a throwing getter', throwing],
    ['a revoked Proxy', revoked],
  ])('refuse %s with E_INVALID_VALUE, its error as the cause, in every configuration, keeping what is stored', async (_, make) => {
    for (const [name, options] of await configurations()) {
      const cache = createCache<unknown>(options)
      await cache.set('k', 'previous')
      const value = make()
      let original: unknown
      try {
        JSON.stringify(value)
      } catch (error) {
        original = error
      }
      for (const write of [() => cache.set('k', value), () => cache.setMany([{ key: 'k', value }]), () => cache.getOrSet('new', () => value)]) {
        const error = await write().then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error, name).toMatchObject({ name: 'CacheError', code: 'E_INVALID_VALUE' })
        expect((error as Error).cause, name).toBeInstanceOf((original as Error).constructor)
        expect(String((error as Error).cause), name).toMatch(/getter failed|revoked/)
      }
      expect(await cache.get('k'), name).toBe('previous')
      expect(await cache.has('new'), name).toBe(false)
      await cache.close()
    }
  })
})

describe('maxValueBytes', () => {
  it.each([0, -1, 1.5, '1024', Number.NaN])('refuses %s as the option with E_INVALID_OPTIONS', (maxValueBytes) => {
    expect(() => createCache({ maxValueBytes: maxValueBytes as number })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'maxValueBytes'`) }),
    )
  })

  it('refuses a value over 1 MiB by default, at every write, naming its size and the option, storing nothing', async () => {
    const big = Buffer.alloc(MiB + 1)
    const loaded: string[] = []
    const cache = createCache<unknown>({ warm: { maxBytes: 8 * MiB }, loader: (key) => (loaded.push(key), big) })
    await cache.set('k', 'previous')
    const tooLarge = { code: 'E_INVALID_VALUE', message: expect.stringMatching(/maxValueBytes \(1048576\).* 1048\d{3} bytes/) }
    await expect(cache.set('k', big)).rejects.toMatchObject(tooLarge)
    await expect(
      cache.setMany([
        { key: 'a', value: 1 },
        { key: 'k', value: big },
      ]),
    ).rejects.toMatchObject(tooLarge)
    await expect(cache.getOrSet('g', () => big)).rejects.toMatchObject(tooLarge)
    await expect(cache.get('loaded')).rejects.toMatchObject(tooLarge)
    expect(loaded).toEqual(['loaded'])
    expect(['k', 'a', 'g', 'loaded'].map((key) => cache.peek(key))).toEqual(['previous', undefined, undefined, undefined])
    // A Buffer counts its bytes, 5 of msgpack header, 1 as a value and 64 as an object.
    await cache.set('k', Buffer.alloc(MiB - 70))
    await expect(cache.set('k', Buffer.alloc(MiB - 69))).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await cache.close()
  })

  it('refuses a value loaded ahead by prefetch as it would refuse it loaded by a read', async () => {
    const loaded: string[] = []
    const cache = createCache<unknown>({
      maxValueBytes: 1000,
      loader: (key) => (loaded.push(key), key === 'page:4' ? 'x'.repeat(2000) : key),
      prefetch: {},
    })
    for (const key of ['page:1', 'page:2', 'page:3']) await cache.get(key)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(loaded).toContain('page:4')
    await expect(cache.get('page:4')).rejects.toMatchObject({ code: 'E_INVALID_VALUE', message: expect.stringContaining('maxValueBytes') })
    expect(cache.peek('page:4')).toBeUndefined()
    await cache.close()
  })

  it('counts 64 bytes an object with the default codec, so that many tiny objects are refused before they stall an encoding', async () => {
    const cache = createCache<unknown>({ warm: { maxBytes: 8 * MiB } })
    await cache.set(
      'few',
      Array.from({ length: 10_000 }, () => ({})),
    )
    await expect(
      cache.set(
        'many',
        Array.from({ length: 20_000 }, () => ({})),
      ),
    ).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await cache.close()
  })

  it(`counts the heap estimate with values: 'any' and hot.maxBytes, takes any size without a heap bound (nothing is encoded), and at Infinity`, async () => {
    const live = createCache<string>({ maxValueBytes: 1000, values: 'any' })
    await live.set('k', 'x'.repeat(600))
    await live.close()
    const cache = createCache<string>({ maxValueBytes: 1000, values: 'any', hot: { maxBytes: 1 << 20 } })
    await cache.set('k', 'x'.repeat(400))
    await expect(cache.set('k', 'x'.repeat(600))).rejects.toMatchObject({
      code: 'E_INVALID_VALUE',
      message: expect.stringContaining('maxValueBytes (1000): its heap estimate is at least 1216 bytes'),
    })
    await cache.close()
    const unbounded = createCache<string>({ maxValueBytes: Infinity, warm: { maxBytes: 64 * MiB } })
    await unbounded.set('k', 'x'.repeat(2 * MiB))
    await unbounded.close()
  })

  it('counts the length of its encoding with a codec of the user, up to the byte', async () => {
    const codec = {
      name: 'json',
      encode: (value: unknown) => Buffer.from(JSON.stringify(value)),
      decode: (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString()) as unknown,
    }
    const cache = createCache<string>({ warm: { maxBytes: MiB }, codec, maxValueBytes: 12 })
    await cache.set('k', 'x'.repeat(10)) // "xxxxxxxxxx": 12 bytes
    await expect(cache.set('k', 'x'.repeat(11))).rejects.toMatchObject({ message: expect.stringContaining('it encodes to 13 bytes') })
    await cache.close()
  })
})

describe('keys a disk record cannot hold', () => {
  it('caps maxKeyLength at 21,845, so that any key fits the 16-bit key length of a disk record', () => {
    expect(() => createCache({ maxKeyLength: 21_846 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTIONS', message: expect.stringContaining(`'maxKeyLength' must be at most 21845`) }),
    )
  })

  it('stores the longest key of 3-byte characters on disk and reads it back after a restart', async () => {
    const dir = await tempDir()
    const key = '€'.repeat(21_845)
    expect(Buffer.byteLength(key)).toBe(0xffff)
    const cache = createCache<number>({ maxKeyLength: 21_845, cold: { dir } })
    await cache.set(key, 1)
    await cache.checkpoint()
    await cache.close()
    const reopened = createCache<number>({ maxKeyLength: 21_845, cold: { dir } })
    expect(await reopened.get(key)).toBe(1)
    await reopened.close()
  })
})
