import fc from 'fast-check'
import { readdir, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { bytes, harness, makeTempDir, text } from './helpers.js'

type Op =
  | { t: 'put'; key: string; value: string; ttl: number; tags: string[] | undefined }
  | { t: 'del'; key: string }
  | { t: 'sync' }
  | { t: 'tick'; ms: number }
  | { t: 'maintain' }
  | { t: 'reopen' }
  | { t: 'crash'; cut: number | undefined }

const key = fc.constantFrom(...'abcdefghijkl')
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      t: fc.constant('put' as const),
      key,
      value: fc.string({ maxLength: 60 }),
      ttl: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })),
      tags: fc.option(fc.uniqueArray(fc.constantFrom('x', 'y', 'ünï'), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('del' as const), key }) },
  { weight: 2, arbitrary: fc.constant({ t: 'sync' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'maintain' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('crash' as const), cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }) }) },
)

type Model = Map<string, { value: string; expiresAt: number; tags: string[] | undefined }>
type Mutation = { key: string; value: string; expiresAt: number; tags: string[] | undefined } | { key: string; deleted: true }

const applyMutation = (m: Model, mu: Mutation): void => {
  if ('deleted' in mu) m.delete(mu.key)
  else m.set(mu.key, { value: mu.value, expiresAt: mu.expiresAt, tags: mu.tags })
}

/** A value and its tags as one string, so that every comparison of views compares the tags too (values are printable ASCII). */
const shown = (value: string, tags: readonly string[] | undefined): string => (tags === undefined ? value : `${value}\u0001${tags.join('\u0001')}`)

const liveView = (m: Model, now: number): Record<string, string> =>
  Object.fromEntries(
    [...m]
      .filter(([, e]) => e.expiresAt === 0 || e.expiresAt > now)
      .map(([k, e]) => [k, shown(e.value, e.tags)])
      .sort(),
  )

async function storeView(s: ColdStore): Promise<Record<string, string>> {
  const keys = [...s.keys()].sort()
  const got = await s.getMany(keys)
  return Object.fromEntries(keys.map((k, i) => [k, shown(text(got[i]?.value) as string, got[i]?.tags)]))
}

/** What opening found: the tags of the live keys, as the view shows them. */
function recoveredView(s: ColdStore, view: Record<string, string>): Record<string, string> {
  const tags = s.takeRecoveredTags()
  return Object.fromEntries(
    Object.entries(view).map(([k, v]) => {
      const list = tags.get(k)
      return [k, shown(v.split('\u0001')[0], list)]
    }),
  )
}

/** The newest segment and its size: the only file a simulated power cut may shorten. */
async function activeSegment(dir: string): Promise<{ name: string; size: number }> {
  const name = (await readdir(dir))
    .filter((n) => n.endsWith('.log'))
    .sort()
    .at(-1)!
  return { name, size: (await stat(join(dir, name))).size }
}

describe('recovery against a Map model', () => {
  it('after any crash the store holds the synced state plus a prefix of the later writes', async () => {
    let compactions = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80, size: 'max' }), fc.constantFrom(0.2, 0.5, 0.8), async (ops, threshold) => {
        const tmp = await makeTempDir()
        const h = harness(tmp.dir, { segmentBytes: 512, maxBytes: 1 << 20, compactionThreshold: threshold })
        let store = await h.open()
        const model: Model = new Map()
        let synced: Model = new Map()
        let since: Mutation[] = []
        let mark = await activeSegment(tmp.dir)
        const checkpoint = async (): Promise<void> => {
          synced = new Map(model)
          since = []
          mark = await activeSegment(tmp.dir)
        }
        try {
          for (const o of ops) {
            switch (o.t) {
              case 'put': {
                const expiresAt = o.ttl === 0 ? 0 : h.clock.t + o.ttl
                await store.putMany([{ key: o.key, value: bytes(o.value), expiresAt, tags: o.tags }])
                const mu = { key: o.key, value: o.value, expiresAt, tags: o.tags }
                applyMutation(model, mu)
                since.push(mu)
                break
              }
              case 'del': {
                const had = liveView(model, h.clock.t)[o.key] !== undefined
                expect(await store.delete(o.key)).toBe(had)
                if (model.has(o.key)) {
                  applyMutation(model, { key: o.key, deleted: true })
                  since.push({ key: o.key, deleted: true })
                }
                break
              }
              case 'sync':
                await store.sync()
                await checkpoint()
                break
              case 'tick':
                h.clock.t += o.ms
                break
              case 'maintain':
                while (await store.maintain(256));
                compactions += store.stats().compactions
                // Rewrites fsync their copies before deleting a source; treat it as a sync point.
                await store.sync()
                await checkpoint()
                break
              case 'reopen': {
                await store.close()
                store = await h.open()
                await checkpoint()
                const view = await storeView(store)
                expect(view).toEqual(liveView(model, h.clock.t))
                expect(recoveredView(store, view)).toEqual(view)
                break
              }
              case 'crash': {
                await store.abandonForTesting()
                const now = await activeSegment(tmp.dir)
                if (o.cut !== undefined) {
                  const from = now.name === mark.name ? mark.size : 0
                  await truncate(join(tmp.dir, now.name), Math.floor(from + (now.size - from) * o.cut))
                }
                store = await h.open()
                const got = await storeView(store)
                expect(recoveredView(store, got)).toEqual(got)
                const candidates: Record<string, string>[] = []
                const state = new Map(synced)
                candidates.push(liveView(state, h.clock.t))
                for (const mu of since) {
                  applyMutation(state, mu)
                  candidates.push(liveView(state, h.clock.t))
                }
                if (o.cut === undefined) expect(got).toEqual(candidates.at(-1))
                else expect(candidates).toContainEqual(got)
                // The model follows what survived.
                model.clear()
                const survivor = candidates.findIndex((c) => JSON.stringify(c) === JSON.stringify(got))
                const replay = new Map(synced)
                for (const mu of since.slice(0, o.cut === undefined ? since.length : survivor)) applyMutation(replay, mu)
                for (const [k, e] of replay) model.set(k, e)
                await checkpoint()
                break
              }
            }
          }
          expect(await storeView(store)).toEqual(liveView(model, h.clock.t))
          expect(h.errors.filter((e) => e.code !== 'E_CORRUPT')).toEqual([])
        } finally {
          await store.close().catch(() => undefined)
          await tmp.cleanup()
        }
      }),
      { numRuns: 150 },
    )
    expect(compactions).toBeGreaterThan(0)
  }, 60_000)
})
