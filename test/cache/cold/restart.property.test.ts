import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../../src/index.js'

type Command =
  | { op: 'set'; key: string; value: string }
  | { op: 'get' | 'delete' | 'has'; key: string }
  | { op: 'checkpoint' | 'restart' | 'clear' }

const key = fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `k${i}`))
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'delete' as const, 'has' as const), key }) },
  { weight: 1, arbitrary: fc.constantFrom({ op: 'checkpoint' as const }, { op: 'restart' as const }, { op: 'clear' as const }) },
)

const open = (dir: string): Cache<string> =>
  createCache<string>({ hot: { maxEntries: 2 }, warm: { maxBytes: 64 }, cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 } })

describe('a cache with a cold tier, against a Map model, across restarts', () => {
  it('answers like the model for any sequence of writes, reads, checkpoints, clears and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40, size: 'max' }), async (commands) => {
        const dir = await mkdtemp(join(tmpdir(), 'strata-cache-model-'))
        const model = new Map<string, string>()
        let cache = open(dir)
        try {
          for (const c of commands) {
            switch (c.op) {
              case 'set':
                await cache.set(c.key, c.value)
                model.set(c.key, c.value)
                break
              case 'get':
                expect(await cache.get(c.key)).toBe(model.get(c.key))
                break
              case 'has':
                expect(await cache.has(c.key)).toBe(model.has(c.key))
                break
              case 'delete':
                expect(await cache.delete(c.key)).toBe(model.delete(c.key))
                break
              case 'checkpoint':
                await cache.checkpoint()
                break
              case 'clear':
                await cache.clear()
                model.clear()
                break
              case 'restart':
                await cache.close()
                cache = open(dir)
                break
            }
          }
          for (const [k, v] of model) expect(await cache.get(k)).toBe(v)
        } finally {
          await cache.close()
          await rm(dir, { recursive: true, force: true })
        }
      }),
      { numRuns: 60 },
    )
  }, 120_000)
})
