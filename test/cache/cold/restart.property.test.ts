import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Cache, createCache } from '../../../src/index.js'

type Command =
  | { op: 'set'; key: string; value: string; tags: string[] | undefined }
  | { op: 'get' | 'delete' | 'has'; key: string }
  | { op: 'deleteByTag'; tag: string }
  | { op: 'checkpoint' | 'restart' | 'clear' }

const key = fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `k${i}`))
const tag = fc.constantFrom('a', 'b', 'c')
const tags = fc.option(fc.uniqueArray(tag, { minLength: 1, maxLength: 3 }), { nil: undefined })
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.string({ maxLength: 40 }), tags }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'delete' as const, 'has' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteByTag' as const), tag }) },
  { weight: 1, arbitrary: fc.constantFrom({ op: 'checkpoint' as const }, { op: 'restart' as const }, { op: 'clear' as const }) },
)

const open = (dir: string): Cache<string> =>
  createCache<string>({ hot: { maxEntries: 2 }, warm: { maxBytes: 1024 }, cold: { dir, segmentBytes: 4096, maxBytes: 1 << 20 } })

describe('a cache with a cold tier, against a Map model, across restarts', () => {
  it('answers like the model for any sequence of writes (tagged or not), reads, deletes by tag, checkpoints, clears and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40, size: 'max' }), async (commands) => {
        const dir = await mkdtemp(join(tmpdir(), 'strata-cache-model-'))
        const model = new Map<string, string>()
        const modelTags = new Map<string, string[]>()
        let cache = open(dir)
        try {
          for (const c of commands) {
            switch (c.op) {
              case 'set':
                await cache.set(c.key, c.value, c.tags === undefined ? undefined : { tags: c.tags })
                model.set(c.key, c.value)
                if (c.tags === undefined) modelTags.delete(c.key)
                else modelTags.set(c.key, c.tags)
                break
              case 'get':
                expect(await cache.get(c.key)).toBe(model.get(c.key))
                break
              case 'has':
                expect(await cache.has(c.key)).toBe(model.has(c.key))
                break
              case 'delete':
                expect(await cache.delete(c.key)).toBe(model.delete(c.key))
                modelTags.delete(c.key)
                break
              case 'deleteByTag': {
                const doomed = [...modelTags].filter(([, t]) => t.includes(c.tag)).map(([k]) => k)
                expect(await cache.deleteByTag(c.tag)).toBe(doomed.length)
                for (const k of doomed) {
                  model.delete(k)
                  modelTags.delete(k)
                }
                break
              }
              case 'checkpoint':
                await cache.checkpoint()
                break
              case 'clear':
                await cache.clear()
                model.clear()
                modelTags.clear()
                break
              case 'restart':
                await cache.close()
                cache = open(dir)
                break
            }
          }
          for (const [k, v] of model) expect(await cache.get(k)).toBe(v)
          for (const t of ['a', 'b', 'c']) {
            expect(await cache.deleteByTag(t)).toBe([...modelTags.values()].filter((list) => list.includes(t)).length)
            for (const [k, list] of modelTags) if (list.includes(t)) modelTags.delete(k)
          }
        } finally {
          await cache.close()
          await rm(dir, { recursive: true, force: true })
        }
      }),
      { numRuns: 60 },
    )
  }, 120_000)
})
