import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { RedisStreamTransport } from '../../src/coherence/redis-stream-transport.js'
import { spawnScript } from '../helpers/child-process.js'
import { connectClient, dropPrefix, freePort, redisUrl, testPrefix } from '../helpers/redis.js'
import { watchTransport } from '../helpers/transport-watch.js'
import { VirtualClock } from '../helpers/virtual-time.js'

const script = fileURLToPath(new URL('../fixtures/bus-close.ts', import.meta.url))

/** Resolves with the exit code, or rejects if the child is still running after `ms`. */
function exitWithin(child: ReturnType<typeof spawnScript>, ms: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.proc.kill('SIGKILL')
      reject(new Error(`still running after ${ms} ms; stdout: ${child.lines.join(' | ')}`))
    }, ms)
    void child.exited.then((code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

describe('closing a Redis bus transport', () => {
  it('lets a script that read from the bus and closed it exit by itself', async () => {
    const child = spawnScript(script, ['reading', redisUrl(), testPrefix('close')])
    expect(await exitWithin(child, 15_000)).toBe(0)
    expect(child.lines).toEqual(['closed'])
  })

  it('lets a script exit by itself that closed the transport while its first connection was tried; open rejects E_CLOSED', async () => {
    const child = spawnScript(script, ['connecting', `redis://127.0.0.1:${await freePort()}`, testPrefix('close')])
    expect(await exitWithin(child, 15_000)).toBe(0)
    expect(child.lines).toEqual(['E_CLOSED', 'closed'])
  })

  it('leaves no action on its scheduler once closed, after reading and after a lost connection', async () => {
    const client = await connectClient()
    const prefix = testPrefix('close-timers')
    const clock = new VirtualClock()
    const transport = new RedisStreamTransport(client, 'reader', { prefix, retention: 60_000, commandTimeout: 2000 }, clock)
    await transport.open()
    const watch = watchTransport(transport)
    expect(clock.pending).toBeGreaterThan(0) // the blocking read's deadline
    const list = await client.sendCommand<string>(['CLIENT', 'LIST'])
    const id = list
      .split('\n')
      .find((l) => l.includes(' name=strata-bus:reader '))
      ?.match(/^id=(\d+)/)?.[1]
    await client.sendCommand(['CLIENT', 'KILL', 'ID', String(id)])
    await watch.next('disconnected')
    expect(clock.pending).toBeGreaterThan(0) // the backoff before a new connection
    await transport.close()
    expect(clock.pending).toBe(0)
    await dropPrefix(client, prefix)
    await client.close()
  })
})
