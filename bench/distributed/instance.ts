/**
 * Another instance of the application, in a process of its own: a
 * strata-cache and a bentocache on the benchmark's Redis, driven by
 * requests from bench/distributed.ts. It is instance B of the invalidation
 * rounds and one of the three processes of the stampede.
 *
 *   argv: <strata prefix> <bento prefix>
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { makeRecord } from '../records.js'
import { serve } from './ipc.js'
import { floorSubscriber } from './redis-floor.js'
import { type Namespace, openSide, type Side, type SideName } from './sides.js'
import type { Revision } from './values.js'

const namespace: Namespace = { strataPrefix: process.argv[2] as string, bentoPrefix: process.argv[3] as string }
const sides: Record<SideName, Side<Revision>> = {
  'strata-cache': openSide<Revision>('strata-cache', namespace, 10_000),
  bentocache: openSide<Revision>('bentocache', namespace, 10_000),
}
const floor = await floorSubscriber(`${namespace.strataPrefix}floor`)
const watched = new Map<string, Promise<bigint>>()

/** A cache, or 'floor': a bare PUBLISH and SUBSCRIBE between the same processes, what any bus on Redis costs at least. */
type Series = SideName | 'floor'

interface Prepare {
  type: 'prepare'
  side: Series
  key: string
  rev: number
}
interface Invalidated {
  type: 'invalidated'
  side: Series
  key: string
}
interface Stampede {
  type: 'stampede'
  side: SideName
  keys: string[]
  /** Concurrent callers per key in this process. */
  callers: number
  /** When every process starts its calls: `process.hrtime.bigint()`, as a string. */
  startAt: string
  /** How long the source takes per call, ms. */
  sourceMs: number
}

async function prepare({ side, key, rev }: Prepare): Promise<null> {
  if (side === 'floor') {
    watched.set(key, floor.next(key))
    return null
  }
  // Written here, so the bus brings this process only the invalidation being measured.
  const cache = sides[side]
  await cache.set(key, { ...makeRecord(rev), rev })
  if ((await cache.get(key))?.rev !== rev) throw new Error(`${side} does not serve the value it just wrote`)
  watched.set(
    key,
    cache.invalidated(key, (value) => value?.rev === rev),
  )
  return null
}

async function invalidated({ side, key }: Invalidated): Promise<{ at: string; value: number | undefined }> {
  const watch = watched.get(key)
  if (watch === undefined) throw new Error(`${key} is not watched`)
  const at = await watch
  watched.delete(key)
  // Checked after the time is taken: what this instance serves now.
  return { at: at.toString(), value: side === 'floor' ? undefined : (await sides[side].get(key))?.rev }
}

async function stampede({ side, keys, callers, startAt, sourceMs }: Stampede): Promise<{ calls: number[]; latencies: number[] }> {
  const cache = sides[side]
  const calls = keys.map(() => 0)
  const wait = Number(BigInt(startAt) - process.hrtime.bigint()) / 1e6
  if (wait > 0) await sleep(wait)
  const latencies = await Promise.all(
    keys.flatMap((key, k) =>
      Array.from({ length: callers }, async () => {
        const start = process.hrtime.bigint()
        const value = await cache.getOrSet(key, async () => {
          calls[k]++
          await sleep(sourceMs)
          return { ...makeRecord(k), rev: 0 }
        })
        if (value?.rev !== 0) throw new Error(`${side} getOrSet returned ${JSON.stringify(value)}`)
        return Number(process.hrtime.bigint() - start) / 1e6
      }),
    ),
  )
  return { calls, latencies }
}

serve(
  async (request) => {
    switch (request.type) {
      case 'prepare':
        return prepare(request as Prepare)
      case 'invalidated':
        return invalidated(request as Invalidated)
      case 'stampede':
        return stampede(request as Stampede)
      default:
        throw new Error(`unknown request ${request.type}`)
    }
  },
  Promise.all([sides['strata-cache'].ready, sides.bentocache.ready]).then(() => undefined),
  async () => {
    await Promise.all([sides['strata-cache'].close(), sides.bentocache.close(), floor.close()])
  },
)
