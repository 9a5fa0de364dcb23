import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCache, isCacheError } from '../../src/index.js'
import { VirtualClock } from '../helpers/virtual-time.js'

type Command =
  | { op: 'set'; key: string; value: number; ttl: number }
  | { op: 'read'; key: string; source: 'fails' | number }
  | { op: 'has' | 'peek' | 'delete'; key: string }
  | { op: 'advance'; ms: number }

const key = fc.constantFrom('a', 'b', 'c')
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer({ min: 0, max: 99 }), ttl: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('read' as const), key, source: fc.oneof(fc.constant('fails' as const), fc.integer({ min: 100, max: 199 })) }),
  fc.record({ op: fc.constantFrom('has' as const, 'peek' as const, 'delete' as const), key }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 30 }) }),
)

const TTL = 20

/** Each key fresh until its expiry, stale (kept) until expiry + the longer window, absent after. */
class Model {
  readonly entries = new Map<string, { value: number; expiresAt: number }>()
  now = 0
  constructor(
    readonly swr: number,
    readonly grace: number,
  ) {}

  entry(key: string): { value: number; age: number } | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    const age = this.now - entry.expiresAt
    if (age >= Math.max(this.swr, this.grace)) return undefined
    return { value: entry.value, age }
  }

  fresh(key: string): number | undefined {
    const entry = this.entry(key)
    return entry !== undefined && entry.age < 0 ? entry.value : undefined
  }

  set(key: string, value: number, ttl: number): void {
    this.entries.set(key, { value, expiresAt: this.now + ttl })
  }

  /** What a read with a loader answering `source` returns: a value, or 'E_LOADER'. */
  read(key: string, source: 'fails' | number): number | 'E_LOADER' {
    const entry = this.entry(key)
    if (entry !== undefined && entry.age < 0) return entry.value
    if (entry !== undefined && entry.age < this.swr) {
      if (source !== 'fails') this.set(key, source, TTL) // the background refresh
      return entry.value
    }
    if (source !== 'fails') {
      this.set(key, source, TTL)
      return source
    }
    return entry !== undefined && entry.age < this.grace ? entry.value : 'E_LOADER'
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('fresh, stale and absent against a model', () => {
  // Hot alone, and a hot of one entry over a warm that holds the rest: kept entries move between them with their keeping.
  it.each([
    ['hot', {}],
    ['hot and warm', { hot: { maxEntries: 1 }, warm: { maxBytes: 1 << 20 } }],
  ] as const)('%s: reads, has, peek and delete answer as the model of windows says', async (_, tiers) => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.array(command, { maxLength: 40 }), async (swr, grace, commands) => {
        const clock = new VirtualClock()
        let source: 'fails' | number = 'fails'
        const cache = createCache<number>({
          ...tiers,
          scheduler: clock,
          ttl: TTL,
          staleWhileRevalidate: swr,
          grace,
          loader: () => {
            if (source === 'fails') throw new Error('down')
            return source
          },
        })
        const model = new Model(swr, grace)
        try {
          for (const c of commands) {
            switch (c.op) {
              case 'set':
                await cache.set(c.key, c.value, { ttl: c.ttl })
                model.set(c.key, c.value, c.ttl)
                break
              case 'read': {
                source = c.source
                const got = await cache.get(c.key).catch((error: unknown) => (isCacheError(error, 'E_LOADER') ? 'E_LOADER' : error))
                expect(got).toBe(model.read(c.key, c.source))
                await settle() // a background refresh ends
                break
              }
              case 'has':
                expect(await cache.has(c.key)).toBe(model.fresh(c.key) !== undefined)
                break
              case 'peek':
                expect(cache.peek(c.key)).toBe(model.fresh(c.key))
                break
              case 'delete':
                expect(await cache.delete(c.key)).toBe(model.fresh(c.key) !== undefined)
                model.entries.delete(c.key)
                break
              case 'advance':
                clock.advance(c.ms)
                model.now += c.ms
                break
            }
          }
        } finally {
          await cache.close()
        }
      }),
      { numRuns: 200 },
    )
  })
})
