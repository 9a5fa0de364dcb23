import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KnownGeneration } from '../../src/remote/known-generation.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { RemoteStore } from '../../src/remote/remote-store.js'
import { connectClient, dropPrefix, testPrefix } from '../helpers/redis.js'

/*
 * Reads under a known generation against a model of what Redis held. Two
 * stores share a prefix, as two instances do: `other` writes and clears
 * unseen, until the test tells the reader's generation of its clears, as the
 * bus would. The guarantee: a read of the reader returns a state the key had
 * at a version no older than the newest the reader knows of it (its own
 * writes and clears, and the clears it was told of). What it was not told
 * of, it may miss.
 */

const KEYS = ['a', 'b']

type Op =
  | { by: 'reader' | 'other'; op: 'set' | 'delete'; key: string }
  | { by: 'reader' | 'other'; op: 'clear' }
  | { op: 'tell' }
  | { op: 'disconnect' }
  | { op: 'connect' }
  | { op: 'get'; key: string }

const key = fc.constantFrom(...KEYS)
const by = fc.constantFrom<'reader' | 'other'>('reader', 'other')
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ by, op: fc.constant<'set'>('set'), key }) },
  { weight: 1, arbitrary: fc.record({ by, op: fc.constant<'delete'>('delete'), key }) },
  { weight: 2, arbitrary: fc.record({ by, op: fc.constant<'clear'>('clear') }) },
  { weight: 2, arbitrary: fc.constant<Op>({ op: 'tell' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'disconnect' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'connect' }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant<'get'>('get'), key }) },
)

/** A state a key had: its value, or none (never written, deleted, cleared), from a version on. */
interface State {
  version: number
  value: string | undefined
}

let client: RedisClient
beforeAll(async () => {
  client = await connectClient()
})
afterAll(async () => {
  await client.close()
})

describe('reads under a known generation, against a model of Redis', () => {
  it('never return a state older than the newest the reader knows of, through clears it is or is not told of', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const prefix = testPrefix('plain-model')
        const options = { prefix, commandTimeout: 5000, retention: 60_000, tombstoneTtl: 60_000 }
        const generation = new KnownGeneration()
        generation.connected()
        const reader = new RemoteStore(client, options, generation)
        const other = new RemoteStore(client, options)
        await reader.open()
        const history = new Map<string, State[]>(KEYS.map((k) => [k, [{ version: 0, value: undefined }]]))
        /** The newest version of each key the reader knows of. */
        const known = new Map<string, number>(KEYS.map((k) => [k, 0]))
        let untold = 0
        let n = 0
        const state = (k: string, s: State): void => {
          history.get(k)?.push(s)
        }
        const knows = (k: string, version: number): void => {
          known.set(k, Math.max(known.get(k) ?? 0, version))
        }
        try {
          for (const step of ops) {
            switch (step.op) {
              case 'set': {
                const value = `v${n++}`
                const store = step.by === 'reader' ? reader : other
                const version = await store.set(step.key, new TextEncoder().encode(value), 0, [], step.by)
                state(step.key, { version, value })
                if (step.by === 'reader') knows(step.key, version)
                break
              }
              case 'delete': {
                const store = step.by === 'reader' ? reader : other
                const { version } = await store.delete(step.key, step.by)
                state(step.key, { version, value: undefined })
                if (step.by === 'reader') knows(step.key, version)
                break
              }
              case 'clear': {
                const store = step.by === 'reader' ? reader : other
                const version = await store.clear(step.by)
                for (const k of KEYS) state(k, { version, value: undefined })
                if (step.by === 'reader') for (const k of KEYS) knows(k, version)
                else untold = Math.max(untold, version)
                break
              }
              case 'tell':
                if (untold === 0) break
                generation.cleared(untold)
                for (const k of KEYS) knows(k, untold)
                untold = 0
                break
              case 'disconnect':
                generation.disconnected()
                break
              case 'connect':
                generation.connected()
                break
              case 'get': {
                const found = await reader.get(step.key)
                const value = found === undefined ? undefined : new TextDecoder().decode(found.bytes)
                const floor = known.get(step.key) ?? 0
                const states = history.get(step.key) ?? []
                const allowed = states.filter((s) => s.version >= floor)
                expect(
                  allowed.some((s) => s.value === value),
                  `read '${step.key}' = ${value}; states from version ${floor}: ${JSON.stringify(allowed)}`,
                ).toBe(true)
                break
              }
            }
          }
        } finally {
          await dropPrefix(client, prefix)
        }
      }),
      { numRuns: 50 },
    )
  }, 240_000)
})
