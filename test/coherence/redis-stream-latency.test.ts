import { asyncScheduler } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { RedisStreamTransport } from '../../src/coherence/redis-stream-transport.js'
import { connectClient, dropPrefix, testPrefix } from '../helpers/redis.js'

const MEASURED = 1000
const WARM_UP = 100

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number

describe('RedisStreamTransport latency on loopback', () => {
  it('delivers a message to another instance within a bound relative to an idle round trip (p50, p99 over 1000 messages)', async () => {
    const publisherClient = await connectClient()
    const readerClient = await connectClient()
    const prefix = testPrefix('latency')
    const options = { prefix, retention: 60_000, commandTimeout: 2000, block: 1000 }
    const writer = new RedisStreamTransport(publisherClient, 'writer', options, asyncScheduler)
    const reader = new RedisStreamTransport(readerClient, 'reader', options, asyncScheduler)
    await Promise.all([writer.open(), reader.open()])

    // The floor: a PING's round trip on the same machine, now.
    const rtt: number[] = []
    for (let i = 0; i < WARM_UP + MEASURED; i++) {
      const start = performance.now()
      await publisherClient.sendCommand(['PING'])
      if (i >= WARM_UP) rtt.push(performance.now() - start)
    }

    let arrived: ((at: number) => void) | undefined
    reader.messages$.subscribe(() => arrived?.(performance.now()))
    const latency: number[] = []
    for (let i = 0; i < WARM_UP + MEASURED; i++) {
      const received = new Promise<number>((resolve) => {
        arrived = resolve
      })
      const start = performance.now()
      await writer.publish({ origin: 'writer', version: i, keys: [`k${i}`] })
      const at = await received
      if (i >= WARM_UP) latency.push(at - start)
    }
    await Promise.all([writer.close(), reader.close()])
    await dropPrefix(publisherClient, prefix)
    await Promise.all([publisherClient.close(), readerClient.close()])

    rtt.sort((a, b) => a - b)
    latency.sort((a, b) => a - b)
    const figures = {
      rttP50: percentile(rtt, 50),
      rttP99: percentile(rtt, 99),
      p50: percentile(latency, 50),
      p99: percentile(latency, 99),
      max: latency.at(-1) as number,
    }
    console.log(
      `invalidation latency over ${MEASURED} messages: ${Object.entries(figures)
        .map(([k, v]) => `${k} ${v.toFixed(3)} ms`)
        .join(', ')}`,
    )
    // Publish to delivery is one round trip and one push; a loaded machine stretches both, hence the margin.
    expect(figures.p50).toBeLessThanOrEqual(10 * figures.rttP50 + 2)
    expect(figures.p99).toBeLessThanOrEqual(10 * figures.rttP99 + 10)
  })
})
