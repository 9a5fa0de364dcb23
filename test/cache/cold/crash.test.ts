import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { spawnScript } from '../../helpers/child-process.js'
import { expected, expectedTags } from './fixtures/expected.js'

const WRITER = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url))
const ROUNDS = 5
/** Keys past the last checkpoint the writer may have reached before the kill (it checkpoints every 25). */
const BEYOND = 200
const doomed = (i: number): boolean => expectedTags(i)?.includes('doomed') ?? false

const options = (dir: string) => ({
  hot: { maxEntries: 50 },
  warm: { maxBytes: 16 * 1024 },
  cold: { dir, segmentBytes: 64 * 1024, maxBytes: 64 << 20 },
})

describe('a cache killed with kill -9', () => {
  it(`keeps everything of its last checkpoint, tags included, over ${ROUNDS} kills on one directory`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-cache-crash-'))
    let durable = 0
    let seed = 12345
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const child = spawnScript(WRITER, [dir], { START: String(durable) })
        await child.waitFor(/^checkpoint \d+/)
        await new Promise((resolve) => setTimeout(resolve, 20 + random() * 200))
        child.proc.kill('SIGKILL')
        await child.exited
        const checkpoints = child.lines.filter((line) => line.startsWith('checkpoint ')).map((line) => Number(line.split(' ')[1]))
        const reached = Math.max(...checkpoints)
        expect(reached).toBeGreaterThan(durable)

        // Reopened, every checkpointed key is there (has() reads the index only: nothing is promoted to memory) ...
        const cache = createCache<{ i: number; payload: string }>(options(dir))
        await cache.ready
        const keys = Array.from({ length: reached + BEYOND }, (_, i) => `k${i}`)
        const present = await Promise.all(keys.map((key) => cache.has(key)))
        for (let i = 0; i < reached; i++) {
          // A 'doomed' key below `durable` was deleted by tag in an earlier round, and may have been rewritten since.
          if (!doomed(i) || i >= durable) expect(present[i], `k${i} after round ${round}`).toBe(expected(i) !== undefined)
        }
        // ... and deleteByTag finds the tagged ones the disk holds: all it holds, checkpointed or written after.
        const onDisk = keys.filter((_, i) => present[i] && doomed(i))
        expect(onDisk.length).toBeGreaterThan(0)
        expect(await cache.deleteByTag('doomed'), `round ${round}`).toBe(onDisk.length)
        await cache.close()

        // Reopened again: the tombstones held; the other checkpointed keys have their values.
        const again = createCache<{ i: number; payload: string }>(options(dir))
        const values = await again.getMany(keys.slice(0, reached))
        for (let i = 0; i < reached; i++) expect(values[i], `k${i} after round ${round}`).toEqual(doomed(i) ? undefined : expected(i))
        for (const key of onDisk) expect(await again.has(key), key).toBe(false)
        expect(await again.deleteByTag('doomed')).toBe(0)
        await again.close()
        durable = reached
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
