import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnScript } from '../helpers/child-process.js'
import { connectClient, dropPrefix, redisUrl, testPrefix } from '../helpers/redis.js'

const child = fileURLToPath(new URL('./fixtures/flight-child.ts', import.meta.url))
let prefix = ''

afterEach(async () => {
  const client = await connectClient()
  await dropPrefix(client, prefix)
  await client.close()
})

describe('single-flight across instances', () => {
  it('ten processes that miss the same keys together call the source once per key', async () => {
    prefix = testPrefix('flight')
    const keyCount = 5
    const children = Array.from({ length: 10 }, () => spawnScript(child, [redisUrl(), prefix, String(keyCount)]))
    await Promise.all(children.map((c) => c.waitFor(/^ready$/)))
    const client = await connectClient()
    await client.sendCommand(['SET', `${prefix}go`, '1'])
    const outputs = await Promise.all(children.map((c) => c.waitFor(/^values /)))
    const codes = await Promise.all(children.map((c) => c.exited))
    expect(codes).toEqual(new Array(10).fill(0))
    for (const line of outputs) {
      expect(JSON.parse(line.slice('values '.length))).toEqual(Array.from({ length: keyCount }, (_, i) => `value-of-key-${i}`))
    }
    const calls = await Promise.all(Array.from({ length: keyCount }, (_, i) => client.sendCommand<string>(['GET', `${prefix}calls:key-${i}`])))
    await client.close()
    expect(calls).toEqual(new Array(keyCount).fill('1'))
  }, 120_000)
})
