/**
 * Redis itself, outside either cache: a bare PUBLISH and SUBSCRIBE (the
 * floor under any bus on Redis), and the removal of a run's keys once it
 * is over.
 */
import { createClient } from 'redis'
import { redisUrl } from './sides.js'

/** Deletes every key matching one of `patterns` (SCAN pages, UNLINK). */
export async function dropKeys(patterns: string[]): Promise<void> {
  const client = await createClient({ url: redisUrl() }).connect()
  for (const pattern of patterns) {
    for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) if (keys.length > 0) await client.unlink(keys)
  }
  await client.close()
}

/** A bare subscriber of `channel`: when each key is next published there, on the machine's monotonic clock. */
export async function floorSubscriber(channel: string): Promise<{ next(key: string): Promise<bigint>; close(): Promise<void> }> {
  const client = await createClient({ url: redisUrl() }).connect()
  const waiting = new Map<string, (at: bigint) => void>()
  await client.subscribe(channel, (key) => {
    const at = process.hrtime.bigint()
    waiting.get(key)?.(at)
    waiting.delete(key)
  })
  return {
    next: (key) => new Promise((resolve) => waiting.set(key, resolve)),
    close: () => client.close(),
  }
}

/** The publishing end of `floorSubscriber`. */
export async function floorPublisher(channel: string): Promise<{ publish(key: string): Promise<void>; close(): Promise<void> }> {
  const client = await createClient({ url: redisUrl() }).connect()
  return {
    publish: async (key) => {
      await client.publish(channel, key)
    },
    close: () => client.close(),
  }
}
