import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { spawnScript } from '../../helpers/child-process.js'
import { expected } from './fixtures/expected.js'

const WRITER = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url))
const ROUNDS = 5

const options = (dir: string) => ({
  hot: { maxEntries: 50 },
  warm: { maxBytes: 16 * 1024 },
  cold: { dir, segmentBytes: 64 * 1024, maxBytes: 64 << 20 },
})

describe('a cache killed with kill -9', () => {
  it(`keeps everything of its last checkpoint, over ${ROUNDS} kills on one directory`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-cache-crash-'))
    let durable = 0
    let seed = 12345
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
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

        const cache = createCache<{ i: number; payload: string }>(options(dir))
        await cache.ready
        const keys = Array.from({ length: reached }, (_, i) => `k${i}`)
        const values = await cache.getMany(keys)
        for (let i = 0; i < reached; i++) expect(values[i], `k${i} after round ${round}`).toEqual(expected(i))
        await cache.close()
        durable = reached
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
