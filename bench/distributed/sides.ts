/**
 * The two caches of the distributed benchmark, each as an application
 * would open it: strata-cache with a remote tier (its bus on the same
 * Redis, by default), and bentocache with a memory L1, a Redis L2 and a
 * Redis bus. Only public APIs; one interface, so every scenario drives
 * both the same way.
 */
import { BentoCache, bentostore, tracingChannels } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { type Cache, createCache } from '../../src/index.js'

export type SideName = 'strata-cache' | 'bentocache'

export interface Side<V> {
  readonly name: SideName
  /** Resolves once the cache is connected and may be measured. */
  readonly ready: Promise<void>
  get(key: string): Promise<V | undefined>
  set(key: string, value: V): Promise<void>
  getOrSet(key: string, factory: () => Promise<V>): Promise<V>
  /** Resolves at the first moment this instance no longer serves `old` for `key` (by its own events), with `process.hrtime.bigint()` then. */
  invalidated(key: string, isOld: (value: V | undefined) => boolean): Promise<bigint>
  /** Where the reads `run` makes are answered from, by layer: counted from the cache's own events. */
  countHits(run: () => unknown): Promise<Record<string, number>>
  close(): Promise<void>
}

export const redisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** Where both libraries keep this run's keys: each run its own, so runs and other users of the server never meet. */
export interface Namespace {
  strataPrefix: string
  bentoPrefix: string
}

function openStrata<V>(namespace: Namespace, l1Entries: number): Side<V> {
  // A longer command timeout than the default 500 ms: on a loaded machine a slow reply must not end the run.
  const cache: Cache<V> = createCache<V>({
    hot: { maxEntries: l1Entries },
    remote: { redis: redisUrl(), prefix: namespace.strataPrefix, commandTimeout: 10_000 },
  })
  return {
    name: 'strata-cache',
    ready: cache.ready,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, factory) => cache.getOrSet(key, factory),
    invalidated: (key, isOld) =>
      new Promise((resolve) => {
        // A local copy is dropped by a `delete` event; peek then shows whether the old value is gone.
        const subscription = cache.events$.subscribe((event) => {
          if (!('key' in event) || event.key !== key) return
          queueMicrotask(() => {
            if (isOld(cache.peek(key))) return
            const at = process.hrtime.bigint()
            subscription.unsubscribe()
            resolve(at)
          })
        })
      }),
    countHits: async (run) => {
      const counts: Record<string, number> = {}
      const subscription = cache.events$.subscribe((event) => {
        if (event.type === 'hit') counts[event.tier] = (counts[event.tier] ?? 0) + 1
        if (event.type === 'miss') counts.miss = (counts.miss ?? 0) + 1
      })
      await run()
      subscription.unsubscribe()
      return counts
    },
    close: () => cache.close(),
  }
}

/** bentocache's Redis options from the same URL. */
function connection(): { host: string; port: number; username?: string; password?: string; db?: number } {
  const url = new URL(redisUrl())
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(db === undefined ? {} : { db }),
  }
}

function openBento<V>(namespace: Namespace, l1Entries: number): Side<V> {
  const bento = new BentoCache({
    default: 'tiered',
    prefix: namespace.bentoPrefix,
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: l1Entries }))
        .useL2Layer(redisDriver({ connection: connection() }))
        .useBus(redisBusDriver({ connection: connection() })),
    },
  })
  return {
    name: 'bentocache',
    // bentocache connects on first use; the warm-up rounds pay for it.
    ready: Promise.resolve(),
    get: (key) => bento.get<V>({ key }),
    set: async (key, value) => {
      await bento.set({ key, value })
    },
    getOrSet: (key, factory) => bento.getOrSet({ key, factory }),
    invalidated: (key) =>
      new Promise((resolve) => {
        // The bus handler marks the L1 copy expired right after it emits this event, in the same call: a microtask later it is done.
        const received = (data: { message: { keys: string[] } }) => {
          if (!data.message.keys.includes(key)) return
          queueMicrotask(() => {
            const at = process.hrtime.bigint()
            bento.off('bus:message:received', received)
            resolve(at)
          })
        }
        bento.on('bus:message:received', received)
      }),
    countHits: async (run) => {
      // Its `cache:hit` event of a plain `get` names no layer; its tracing channel does.
      const counts: Record<string, number> = {}
      const handlers = {
        asyncEnd: (message: { operation?: string; hit?: boolean; tier?: string }) => {
          if (message.operation !== 'get') return
          const layer = message.hit === true ? (message.tier ?? 'unknown') : 'miss'
          counts[layer] = (counts[layer] ?? 0) + 1
        },
      }
      tracingChannels.cacheOperation.subscribe(handlers as never)
      await run()
      tracingChannels.cacheOperation.unsubscribe(handlers as never)
      return counts
    },
    close: () => bento.disconnect(),
  }
}

export const openSide = <V>(name: SideName, namespace: Namespace, l1Entries: number): Side<V> =>
  name === 'strata-cache' ? openStrata<V>(namespace, l1Entries) : openBento<V>(namespace, l1Entries)
