/**
 * The server itself, outside either cache: the round trip of a PING (the
 * floor under every figure that crosses Redis), and the removal of a run's
 * keys once it is over.
 */
import { createClient } from 'redis'
import { quantile } from '../harness.js'
import { redisUrl } from './sides.js'

/** p50 and p99 of `count` PINGs, one at a time, in ms. */
export async function pingRoundTrip(count: number): Promise<{ p50: number; p99: number }> {
  const client = await createClient({ url: redisUrl() }).connect()
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    await client.ping()
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  await client.close()
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99) }
}

/** Deletes every key matching one of `patterns` (SCAN pages, UNLINK). */
export async function dropKeys(patterns: string[]): Promise<void> {
  const client = await createClient({ url: redisUrl() }).connect()
  for (const pattern of patterns) {
    for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) if (keys.length > 0) await client.unlink(keys)
  }
  await client.close()
}
