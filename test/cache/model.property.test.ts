import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../src/index.js'
import { POLICY_NAMES } from '../../src/policies/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'

type Command =
  | { op: 'set'; key: string; value: unknown; ttl?: number }
  | { op: 'get' | 'has' | 'peek' | 'delete'; key: string }
  | { op: 'getOrSet'; key: string; value: unknown }
  | { op: 'clear' }
  | { op: 'advance'; ms: number }

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f')
const value = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.constant(null),
  fc.date({ noInvalidDate: true }),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 3, noNullPrototype: true }),
  fc.bigInt(),
  fc.uint8Array({ maxLength: 8 }),
  fc.array(fc.tuple(fc.string({ maxLength: 2 }), fc.integer()), { maxLength: 3 }).map((pairs) => new Map(pairs)),
)

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value, ttl: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) }),
  fc.record({ op: fc.constantFrom('get' as const, 'has' as const, 'peek' as const, 'delete' as const), key }),
  fc.record({ op: fc.constant('getOrSet' as const), key, value }),
  fc.constant({ op: 'clear' as const }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 30 }) }),
)

/** What a cache large enough never to evict must answer: a Map of values with expiry times. */
class Model {
  readonly entries = new Map<string, { value: unknown; expiresAt: number }>()
  now = 0

  live(key: string): unknown {
    const entry = this.entries.get(key)
    if (entry === undefined || (entry.expiresAt !== 0 && entry.expiresAt <= this.now)) return undefined
    return entry.value
  }

  set(key: string, value: unknown, ttl?: number): void {
    this.entries.set(key, { value, expiresAt: ttl === undefined ? 0 : this.now + ttl })
  }
}

async function apply(cache: Cache<unknown>, clock: VirtualClock, model: Model, command: Command): Promise<void> {
  switch (command.op) {
    case 'set':
      await cache.set(command.key, command.value, command.ttl === undefined ? undefined : { ttl: command.ttl })
      return model.set(command.key, command.value, command.ttl)
    case 'get':
      return expect(await cache.get(command.key)).toEqual(model.live(command.key))
    case 'peek':
      return expect(cache.peek(command.key)).toEqual(model.live(command.key))
    case 'has':
      return expect(await cache.has(command.key)).toBe(model.live(command.key) !== undefined)
    case 'delete': {
      const existed = model.live(command.key) !== undefined
      model.entries.delete(command.key)
      return expect(await cache.delete(command.key)).toBe(existed)
    }
    case 'getOrSet': {
      const cached = model.live(command.key)
      const expected = cached === undefined ? command.value : cached
      if (cached === undefined) model.set(command.key, command.value)
      return expect(await cache.getOrSet(command.key, () => command.value)).toEqual(expected)
    }
    case 'clear':
      model.entries.clear()
      return cache.clear()
    case 'advance':
      clock.advance(command.ms)
      model.now += command.ms
  }
}

describe('the cache against a Map model', () => {
  const configurations = {
    'hot only': {},
    'hot over warm, entries moving between them': { hot: { maxEntries: 2 }, warm: { maxBytes: 1 << 20 } },
    'lfu over lfu': { hot: { maxEntries: 2, policy: 'lfu' }, warm: { maxBytes: 1 << 20, policy: 'lfu' } },
  } as const

  for (const [name, options] of Object.entries(configurations)) {
    it(`answers like the model for any sequence of operations and time steps (${name})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 60, size: 'max' }), async (commands) => {
          const clock = new VirtualClock()
          const cache = createCache<unknown>({ ...options, scheduler: clock })
          const model = new Model()
          for (const c of commands) await apply(cache, clock, model, c)
          for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) expect(await cache.get(k)).toEqual(model.live(k))
          await cache.close()
          expect(clock.pending).toBe(0)
        }),
        { numRuns: 300 },
      )
    })
  }

  for (const policy of POLICY_NAMES) {
    it(`under eviction by ${policy}, never answers with a value that is not the last one written`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { maxLength: 80, size: 'max' }), async (commands) => {
          const clock = new VirtualClock()
          const cache = createCache<unknown>({ hot: { maxEntries: 2, policy }, warm: { maxBytes: 1024, policy }, scheduler: clock })
          const model = new Model()
          for (const c of commands) {
            if (c.op === 'get' || c.op === 'peek') {
              const answer = c.op === 'get' ? await cache.get(c.key) : cache.peek(c.key)
              if (answer !== undefined) expect(answer).toEqual(model.live(c.key))
              // An evicted key is absent in the model too from here on.
              if (answer === undefined) model.entries.delete(c.key)
            } else if (c.op === 'set' || c.op === 'clear' || c.op === 'advance') {
              await apply(cache, clock, model, c)
            }
          }
          await cache.close()
        }),
        { numRuns: 150 },
      )
    })
  }
})
