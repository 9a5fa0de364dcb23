import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { BroadcastTransport } from '../../src/coherence/broadcast-transport.js'
import type { Invalidation } from '../../src/coherence/invalidation.js'
import { isCacheError } from '../../src/errors.js'
import { watchTransport } from '../helpers/transport-watch.js'

const open: BroadcastTransport[] = []
afterEach(async () => {
  for (const transport of open.splice(0)) await transport.close()
})

function transport(channel: string, origin: string): BroadcastTransport {
  const made = new BroadcastTransport(channel, origin)
  open.push(made)
  return made
}

/** A worker thread running a TypeScript fixture (tsx registered inside the worker). */
function startWorker(script: URL, data: Record<string, string>): Worker {
  const boot = "import('tsx/esm/api').then(({ register }) => { register(); return import(require('node:worker_threads').workerData.script) })"
  return new Worker(boot, { eval: true, workerData: { script: script.href, ...data } })
}

const keys = (origin: string, i: number): Invalidation => ({ origin, version: i, keys: [`k${i}`] })

describe('BroadcastTransport', () => {
  it('delivers the messages of other origins in order, skips its own origin, and is always connected', async () => {
    const channel = `strata-test-${randomUUID()}`
    const a = transport(channel, 'a')
    const b = transport(channel, 'b')
    const alsoA = transport(channel, 'a') // another instance of origin a: a's messages are its own
    const atB = watchTransport(b)
    const atAlsoA = watchTransport(alsoA)
    const sent = [keys('a', 1), { origin: 'a', version: 2, tag: 't' }, { origin: 'a', version: 3, all: true } as const]
    for (const message of sent) await a.publish(message)
    await b.publish(keys('b', 4))
    await atAlsoA.until(() => atAlsoA.messages.length === 1, "b's message")
    await atB.until(() => atB.messages.length === 3, "a's messages")
    expect(atB.messages).toEqual(sent)
    expect(atAlsoA.messages).toEqual([keys('b', 4)])
    expect(atB.states).toEqual([{ state: 'connected' }])
  })

  it('ignores posts on the channel that are not messages', async () => {
    const channel = `strata-test-${randomUUID()}`
    const b = transport(channel, 'b')
    const atB = watchTransport(b)
    const stray = new BroadcastChannel(channel)
    stray.postMessage({ origin: 'x', version: 1, keys: ['k'] })
    stray.postMessage(['o', 'x', 'v', 'not a number', 'a', '1'])
    stray.postMessage(['o', 'x', 'v', '5', 'a', '1'])
    stray.close()
    await atB.until(() => atB.messages.length > 0, 'the one well-formed message')
    expect(atB.messages).toEqual([{ origin: 'x', version: 5, all: true }])
  })

  it('reaches a worker thread and back; a worker whose transport closed exits by itself', async () => {
    const channel = `strata-test-${randomUUID()}`
    const main = transport(channel, 'main')
    const atMain = watchTransport(main)
    const worker = startWorker(new URL('../fixtures/bus-worker.ts', import.meta.url), { channel, origin: 'worker' })
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
    await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    for (let i = 0; i < 5; i++) await main.publish(keys('main', i))
    await atMain.until(() => atMain.messages.length === 5, 'five echoes')
    expect(atMain.messages).toEqual(Array.from({ length: 5 }, (_, i) => ({ origin: 'worker', version: i + 1, keys: [`echo:k${i}`] })))
    await main.publish({ origin: 'main', version: 9, keys: ['stop'] })
    expect(await exited).toBe(0)
  })

  it('rejects publish with E_CLOSED once closed, and completes its streams', async () => {
    const a = transport(`strata-test-${randomUUID()}`, 'a')
    let completed = 0
    a.messages$.subscribe({ complete: () => completed++ })
    a.state$.subscribe({ complete: () => completed++ })
    await a.close()
    expect(completed).toBe(2)
    await expect(a.publish(keys('a', 1))).rejects.toSatisfy((e: unknown) => isCacheError(e, 'E_CLOSED'))
  })
})
