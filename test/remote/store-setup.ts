import { connectClient, dropPrefix, testPrefix } from '../helpers/redis.js'
import type { RedisClient, RedisCommandOptions } from '../../src/remote/redis-client.js'
import { RemoteStore, type RemoteStoreOptions } from '../../src/remote/remote-store.js'

/** A client that counts the commands sent through it: round trips, as the server sees them. */
export function countingClient(client: RedisClient): { client: RedisClient; sent: string[] } {
  const sent: string[] = []
  const counting = Object.create(client) as RedisClient
  counting.sendCommand = <T>(args: ReadonlyArray<string | Uint8Array>, options?: RedisCommandOptions): Promise<T> => {
    sent.push(String(args[0]))
    return client.sendCommand<T>(args, options)
  }
  return { client: counting, sent }
}

export interface StoreFixture {
  client: RedisClient
  prefix: string
  store: RemoteStore
  /** Another store on the same prefix, as another instance has it. */
  open(options?: Partial<RemoteStoreOptions>): Promise<RemoteStore>
  done(): Promise<void>
}

/** A store under a prefix of the test's own, on the shared Redis (or `url`); `done` drops its keys and closes the client. */
export async function storeFixture(name: string, options: Partial<RemoteStoreOptions> = {}, url?: string): Promise<StoreFixture> {
  const client = await connectClient(url)
  const prefix = testPrefix(name)
  const open = async (more: Partial<RemoteStoreOptions> = {}): Promise<RemoteStore> => {
    const store = new RemoteStore(client, { prefix, commandTimeout: 5000, retention: 60_000, tombstoneTtl: 60_000, ...options, ...more })
    await store.open()
    return store
  }
  const store = await open()
  return {
    client,
    prefix,
    store,
    open,
    done: async () => {
      await dropPrefix(client, prefix).catch(() => undefined)
      await client.close().catch(() => client.destroy())
    },
  }
}
