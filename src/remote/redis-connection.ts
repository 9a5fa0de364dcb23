import { CacheError } from '../errors.js'
import { type RedisClient, remoteError } from './redis-client.js'

/** A client the remote tier uses, and whether it opened it (then it closes it too). */
export interface RedisConnection {
  readonly client: RedisClient
  readonly owned: boolean
}

/** The longest wait between reconnect attempts: a Redis back from a restart is used again within about this. */
const MAX_RECONNECT_DELAY_MS = 1000

/**
 * A connected client: from a URL, a node-redis client of our own (the
 * `redis` package, loaded only now: it is an optional peer dependency);
 * an application's client as it is, connected if it was not yet.
 *
 * A client of our own queues nothing while disconnected (a command fails at
 * once, so the breaker sees it) and reconnects in the background. Its first
 * connect must succeed: a URL that leads nowhere is an error here, not later.
 */
export async function openRedis(given: string | RedisClient): Promise<RedisConnection> {
  if (typeof given !== 'string') {
    if (!given.isOpen) await connectOnce(given, 'the given Redis client')
    return { client: given, owned: false }
  }
  const { createClient } = await loadRedis()
  let client: RedisClient
  try {
    client = createClient({
      url: given,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) },
    }) as unknown as RedisClient
  } catch (error) {
    throw new CacheError('E_INVALID_OPTIONS', `remote.redis: ${JSON.stringify(given)} is not a Redis URL (redis://host:port)`, { cause: error })
  }
  // Without a listener node-redis throws connection errors at the process; they surface where commands fail.
  client.on('error', ignore)
  try {
    await connectOnce(client, redactedUrl(given))
  } catch (error) {
    client.off('error', ignore)
    client.destroy()
    throw error
  }
  return { client, owned: true }
}

/** Closes a client of our own (its pending commands answered first); leaves an application's client open. */
export async function closeRedis(connection: RedisConnection): Promise<void> {
  if (!connection.owned) return
  const { client } = connection
  try {
    if (client.isOpen) await client.close()
  } catch {
    client.destroy()
  } finally {
    client.off('error', ignore)
  }
}

const ignore = (): void => undefined

type RedisModule = { createClient(options: object): unknown }

async function loadRedis(): Promise<RedisModule> {
  try {
    return (await import('redis')) as unknown as RedisModule
  } catch (error) {
    throw new CacheError('E_INVALID_OPTIONS', "remote.redis is a URL but the 'redis' package is not installed: npm install redis", {
      cause: error,
    })
  }
}

/** Connects, failing at the first refused attempt rather than retrying forever as node-redis would. */
export function connectOnce(client: RedisClient, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: unknown): void => {
      client.off('error', failed)
      reject(remoteError(`could not connect to ${what}`, error))
    }
    client.on('error', failed)
    client.connect().then(
      () => {
        client.off('error', failed)
        resolve()
      },
      (error: unknown) => failed(error),
    )
  })
}

/** A URL as errors may show it: without its password. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'the Redis URL'
  }
}
