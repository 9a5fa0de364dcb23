import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CacheError } from '../../../src/errors.js'
import { createCache } from '../../../src/index.js'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import { SHAPES_NAME } from '../../../src/tiers/cold/shapes-file.js'
import { spawnScript } from '../../helpers/child-process.js'
import { shaped } from './fixtures/shaped.js'

const WRITER = fileURLToPath(new URL('./fixtures/shape-writer.ts', import.meta.url))
const turn = () => new Promise((resolve) => setImmediate(resolve))
const options = (dir: string) => ({ hot: { maxEntries: 20 }, cold: { dir } })

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-shapes-cache-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The encoding tag (first byte) of every live value on disk. */
async function tagsOnDisk(): Promise<number[]> {
  const store = await ColdStore.open({ dir, now: () => 0, onError: () => undefined })
  try {
    const keys = [...store.keys()]
    const hits = await store.getMany(keys)
    return hits.map((hit) => hit?.value[0] ?? -1)
  } finally {
    await store.close()
  }
}

/** Resolves once the shapes file has kept its size for 300 ms: the shapes seen so far are saved. */
async function shapesSaved(): Promise<void> {
  let last = -1
  for (let stable = 0; stable < 6; ) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    const size = await stat(join(dir, SHAPES_NAME)).then(
      (s) => s.size,
      () => -1,
    )
    stable = size > 0 && size === last ? stable + 1 : 0
    last = size
  }
}

/** Keys 0-99 with shapes seen for the first time, then (once those are saved) keys 100-299 of the same shapes. */
async function writeSome(): Promise<void> {
  const cache = createCache<Record<string, unknown>>(options(dir))
  await cache.ready
  for (let i = 0; i < 300; i++) {
    if (i === 100) await shapesSaved()
    await cache.set(`k${i}`, shaped(i, 4))
    if (i % 10 === 0) await turn()
  }
  await cache.close()
}

describe('a disk whose values share record shapes', () => {
  it('stores them with shared shapes once saved, and reads every value back after a restart', async () => {
    await writeSome()
    const tags = await tagsOnDisk()
    expect(tags.length).toBe(300)
    // Hot's 20 and warm's none aside, every value written after the shapes were saved refers to them.
    expect(tags.filter((tag) => tag === 2).length).toBeGreaterThanOrEqual(200)
    expect((await stat(join(dir, SHAPES_NAME))).size).toBeGreaterThan(0)

    const cache = createCache<Record<string, unknown>>(options(dir))
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`)
    expect(await cache.getMany(keys)).toEqual(keys.map((_, i) => shaped(i, 4)))
    await cache.close()
  })

  it('whose shapes file is gone reports those values lost and never gives a wrong one', async () => {
    await writeSome()
    await rm(join(dir, SHAPES_NAME))
    const cache = createCache<Record<string, unknown>>(options(dir))
    const errors: CacheError[] = []
    cache.events$.subscribe((event) => {
      if (event.type === 'error') errors.push(event.error)
    })
    const values = await cache.getMany(Array.from({ length: 300 }, (_, i) => `k${i}`))
    let lost = 0
    values.forEach((value, i) => {
      if (value === undefined) lost++
      else expect(value).toEqual(shaped(i, 4))
    })
    expect(lost).toBeGreaterThanOrEqual(200)
    expect(errors.some((error) => error.code === 'E_CODEC')).toBe(true)
    // It goes on working: new values get shapes of their own, saved again.
    await cache.set('fresh', shaped(7))
    expect(await cache.get('fresh')).toEqual(shaped(7))
    await cache.close()
  })

  it('killed with kill -9 while its shapes are being saved, reads back every checkpointed value', async () => {
    let durable = 0
    for (let round = 0; round < 4; round++) {
      const child = spawnScript(WRITER, [dir], { START: String(durable) })
      await child.waitFor(/^checkpoint \d+/)
      await new Promise((resolve) => setTimeout(resolve, 30 + round * 60))
      child.proc.kill('SIGKILL')
      await child.exited
      const reached = Math.max(...child.lines.filter((line) => line.startsWith('checkpoint ')).map((line) => Number(line.split(' ')[1])))
      expect(reached).toBeGreaterThan(durable)
      const cache = createCache<Record<string, unknown>>(options(dir))
      const keys = Array.from({ length: reached }, (_, i) => `k${i}`)
      const values = await cache.getMany(keys)
      for (let i = 0; i < reached; i++) expect(values[i], `k${i} after round ${round}`).toEqual(shaped(i))
      await cache.close()
      durable = reached
    }
    expect((await tagsOnDisk()).filter((tag) => tag === 2).length).toBeGreaterThan(0)
  }, 90_000)
})
