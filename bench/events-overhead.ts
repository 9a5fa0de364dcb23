/**
 * What events$ costs the hot hit path while nobody subscribes.
 *
 * The honest baseline is the same code with emission compiled out, so this
 * loads two private copies of src/: one as it is, one where every
 * `this.bus.listening` guard in the tier stack is replaced by `false`, which
 * lets the JIT drop each emission branch. Same caches, same keys; the
 * difference is exactly what an unsubscribed events$ costs. Two further rows
 * inform: a cache whose events$ was subscribed then unsubscribed (must cost
 * the same as never subscribed) and one with a live subscriber.
 *
 * Each side has its own closure (written out, not made by one shared
 * function) so every `cache.get` call site sees one class only.
 */
import { compare, makeKeys, accessOrder, report, roundsFromArgs } from './harness.js'
import { importPatched } from './patched-src.js'
import { makeRecord, prng, type ProductRecord } from './records.js'

const ENTRIES = 10_000
const OPS = 100_000
const MASK = (1 << 16) - 1

const keys = makeKeys(ENTRIES)
const values = keys.map((_, i) => makeRecord(i))
const order = accessOrder(ENTRIES, MASK + 1, prng(13))

const real = await importPatched([])
const silent = await importPatched([{ file: 'src/observe/notifier.ts', from: 'this.bus.listening', to: 'false' }])

type Cache = ReturnType<typeof real.createCache<ProductRecord>>
async function filled(cache: Cache): Promise<Cache> {
  for (let i = 0; i < ENTRIES; i++) await cache.set(keys[i], values[i])
  return cache
}

async function neverSubscribed() {
  const cache = await filled(real.createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } }))
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}

async function emissionRemoved() {
  const cache = await filled(silent.createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } }))
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}

async function unsubscribed() {
  const cache = await filled(real.createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } }))
  cache.events$.subscribe(() => {}).unsubscribe()
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found
  }
}

async function subscribed() {
  const cache = await filled(real.createCache<ProductRecord>({ hot: { maxEntries: ENTRIES } }))
  let seen = 0
  cache.events$.subscribe(() => seen++)
  return async (ops: number) => {
    let found = 0
    for (let i = 0; i < ops; i++) if ((await cache.get(keys[order[i & MASK]])) !== undefined) found++
    return found + seen
  }
}

const rounds = roundsFromArgs(41)
const common = `await get on ${ENTRIES} hot entries`
const row = (id: string, title: string, baselineName: string, c: Awaited<ReturnType<typeof compare>>, note: string, target?: number) =>
  report({ id, title, strata: c.a, baseline: c.b, baselineName, unit: 'ns/op', ratio: c.ratio, spread: c.spread, target, notes: [note] })

row(
  'events-overhead',
  'events$ unsubscribed: hot hit cost',
  'same code, emission removed',
  await compare(await neverSubscribed(), await emissionRemoved(), { ops: OPS, rounds }),
  `${common}; baseline is a copy of src/ with every bus.listening guard replaced by false, ${rounds} rounds`,
  1.05,
)
row(
  'events-after-unsubscribe',
  'events$ subscribed, then unsubscribed',
  'never subscribed',
  await compare(await unsubscribed(), await neverSubscribed(), { ops: OPS, rounds }),
  `${common}; information only: nothing should linger once the last subscriber leaves`,
)
row(
  'events-subscribed',
  'events$ with one subscriber',
  'never subscribed',
  await compare(await subscribed(), await neverSubscribed(), { ops: OPS, rounds }),
  `${common}; information only: what a listener costs (one event object per hit)`,
)
