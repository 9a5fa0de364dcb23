import type * as fs from 'node:fs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { bytes, harness, makeTempDir, text, type Harness } from './helpers.js'

// Every positioned read the store hands to the thread pool, and how many reads had ended when it did.
const submitted = vi.hoisted(() => ({ ended: [] as number[], done: 0 }))
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>()
  const read = (fd: number, buffer: Buffer, offset: number, length: number, position: number, callback: (e: Error | null, n: number) => void) => {
    submitted.ended.push(submitted.done)
    real.read(fd, buffer, offset, length, position, (error, n) => {
      submitted.done++
      callback(error, n)
    })
  }
  return { ...real, default: { ...real, read }, read }
})

let h: Harness
let cleanup: () => Promise<void>
let store: ColdStore | undefined

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(tmp.dir)
})
afterEach(async () => {
  await store?.close()
  store = undefined
  await cleanup()
})

describe('read path: submissions to the thread pool', () => {
  it('reads started in one turn of the loop are submitted together once the turn ends, and all answer', async () => {
    store = await h.open({ readConcurrency: 32 })
    await store.putMany(Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: bytes(`value ${i}`), expiresAt: 0 })))
    submitted.ended.length = 0
    submitted.done = 0
    const gets = Array.from({ length: 10 }, (_, i) => store!.get(`k${i}`))
    const many = store.getMany(Array.from({ length: 10 }, (_, i) => `k${10 + i}`))
    // Nothing handed over within the turn that started the reads.
    expect(submitted.ended).toEqual([])
    const singles = await Promise.all(gets)
    const batch = await many
    singles.forEach((hit, i) => expect(text(hit?.value)).toBe(`value ${i}`))
    batch.forEach((hit, i) => expect(text(hit?.value)).toBe(`value ${10 + i}`))
    // All twenty in one go: none had ended when the last was submitted.
    expect(submitted.ended).toEqual(new Array(20).fill(0))
  })
})
