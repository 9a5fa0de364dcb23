import { firstValueFrom, filter, type Observable, Subject, BehaviorSubject, take } from 'rxjs'
import { type Cache, type CacheEvent, createCache } from '../../src/index.js'
import type { Invalidation, Transport, TransportState } from '../../src/coherence/invalidation.js'
import { connectClient, dropPrefix, redisUrl, testPrefix } from '../helpers/redis.js'

/** A cache with a remote tier and a Redis bus under `prefix`, closed by `closeAll`. */
export function remoteCache<V = unknown>(prefix: string, extra: Parameters<typeof createCache<V>>[0] = {}, url = redisUrl()): Cache<V> {
  const cache = createCache<V>({ remote: { redis: url, prefix }, ...extra })
  opened.push(cache as Cache<unknown>)
  return cache
}

const opened: Cache<unknown>[] = []

const prefixes: string[] = []

/** A prefix of this test's own, whose keys `closeAll` deletes. */
export function prefix(name: string): string {
  const made = testPrefix(name)
  prefixes.push(made)
  return made
}

/** Keeps a cache made otherwise, to close with the rest. */
export function tracked<V>(cache: Cache<V>): Cache<V> {
  opened.push(cache as Cache<unknown>)
  return cache
}

/** Closes every cache made here and deletes the keys of every prefix handed out: each test's `afterEach`. */
export async function closeAll(): Promise<void> {
  const caches = opened.splice(0)
  await Promise.all(caches.map((cache) => cache.close().catch(() => undefined)))
  const used = prefixes.splice(0)
  if (used.length === 0) return
  const client = await connectClient()
  for (const p of used) await dropPrefix(client, p)
  await client.close()
}

/** The first event of `type` (and matching `where`) from now on. */
export function nextEvent<T extends CacheEvent['type']>(
  cache: Cache<unknown>,
  type: T,
  where: (event: Extract<CacheEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<CacheEvent, { type: T }>> {
  return firstValueFrom(
    (cache.events$ as Observable<CacheEvent>).pipe(
      filter((event): event is Extract<CacheEvent, { type: T }> => event.type === type && where(event as Extract<CacheEvent, { type: T }>)),
      take(1),
    ),
  )
}

/** Polls `check` on real time until it holds, or fails after `ms`. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A transport of the test's own: it publishes into `published`, and the test feeds messages and states. */
export class TestTransport implements Transport {
  readonly published: Invalidation[] = []
  readonly incoming = new Subject<Invalidation>()
  readonly states = new BehaviorSubject<TransportState>({ state: 'connected' })
  readonly messages$ = this.incoming.asObservable()
  readonly state$ = this.states.asObservable()
  async publish(message: Invalidation): Promise<void> {
    this.published.push(message)
  }
}
