import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { RecordingSource, settle } from '../cache/writer-helpers.js'
import { VirtualClock } from '../helpers/virtual-time.js'

type Step =
  | { kind: 'set'; key: number }
  | { kind: 'delete'; key: number }
  | { kind: 'get'; key: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'flush' }
  | { kind: 'source'; failing: boolean }

const key = fc.integer({ min: 0, max: 5 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: key.map((k) => ({ kind: 'set' as const, key: k })) },
  { weight: 1, arbitrary: key.map((k) => ({ kind: 'delete' as const, key: k })) },
  { weight: 3, arbitrary: key.map((k) => ({ kind: 'get' as const, key: k })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 150 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.boolean().map((failing) => ({ kind: 'source' as const, failing })) },
)

describe('write-back against a model', () => {
  it('reads every key as its last acknowledged op, never loads an older value, and leaves the source with each key’s last op in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const clock = new VirtualClock()
        const source = new RecordingSource<number>()
        let failing = false
        const write: typeof source.write = (ops, context) => {
          if (failing) source.failures = 1
          return source.write(ops, context)
        }
        const cache = createCache<number>({
          scheduler: clock,
          hot: { maxEntries: 2 },
          loader: (k) => source.data.get(k),
          writer: { mode: 'back', write, journal: false, flushInterval: 100, batchSize: 3, retry: { attempts: 2, baseDelay: 10, maxDelay: 40 } },
        })
        const model = new Map<string, number>()
        let n = 0
        const run = async (): Promise<void> => {
          for (let i = 0; i < 4; i++) await settle()
        }
        for (const s of steps) {
          if (s.kind === 'set') {
            model.set(`k${s.key}`, ++n)
            await cache.set(`k${s.key}`, n)
          } else if (s.kind === 'delete') {
            model.delete(`k${s.key}`)
            await cache.delete(`k${s.key}`)
          } else if (s.kind === 'get') {
            expect(await cache.get(`k${s.key}`)).toBe(model.get(`k${s.key}`))
          } else if (s.kind === 'advance') {
            clock.advance(s.ms)
            await run()
          } else if (s.kind === 'flush') {
            const flushed = cache.flush().catch(() => undefined)
            for (let i = 0; i < 10; i++) {
              await run()
              clock.advance(40)
            }
            await run()
            await Promise.race([flushed, run()])
          } else failing = s.failing
        }
        failing = false
        const done = cache.flush()
        for (let i = 0; i < 40; i++) {
          await run()
          clock.advance(50)
        }
        await done
        // Each key's last op is at the source, and the values a key's sets reached it with never went back.
        for (const k of new Set(steps.filter((s) => 'key' in s).map((s) => `k${(s as { key: number }).key}`))) {
          expect(source.data.get(k)).toBe(model.get(k))
          const values = source.calls.flat().flatMap((op) => (op.key === k && op.type === 'set' ? [op.value] : []))
          for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] as number)
        }
        expect(cache.stats().dirty).toBe(0)
        await cache.close()
        expect(clock.pending).toBe(0)
      }),
      { numRuns: 150 },
    )
  }, 60_000)
})
