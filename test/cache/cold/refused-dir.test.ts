import { execFile, execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const run = promisify(execFile)
const REFUSED_OPEN = fileURLToPath(new URL('./fixtures/refused-open.ts', import.meta.url))

/** Runs the script on `dir`; it fails the test unless it exits by itself in time. */
async function openAndNeverClose(dir: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', REFUSED_OPEN, dir], { timeout: 15_000 })
  return stdout.trim()
}

let root = ''
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'strata-cache-refused-'))
})
afterEach(() => rm(root, { recursive: true, force: true }))

describe('a cache refused its cold directory', () => {
  it('rejects ready with E_LOCKED when another live process holds it, and lets the process exit without close()', async () => {
    const dir = join(root, 'store')
    const holder = createCache<string>({ cold: { dir } })
    await holder.ready
    try {
      expect(await openAndNeverClose(dir)).toBe('refused E_LOCKED')
    } finally {
      await holder.close()
    }
  })

  it('once ready has rejected, leaves only its retry on the scheduler, and nothing once closed', async () => {
    const dir = join(root, 'store')
    const holder = createCache<string>({ cold: { dir } })
    await holder.ready
    try {
      const clock = new VirtualClock()
      const cache = createCache<string>({ scheduler: clock, cold: { dir, fsync: 'interval' } })
      expect(clock.pending).toBeGreaterThan(0)
      await expect(cache.ready).rejects.toMatchObject({ code: 'E_LOCKED' })
      // Its flows stopped (nothing to write or upkeep): what is left is the one retry of the open, 1 s on.
      expect(clock.pending).toBe(1)
      await cache.close()
      expect(clock.pending).toBe(0)
    } finally {
      await holder.close()
    }
  })

  it('rejects ready with E_IO when the directory cannot be created, and lets the process exit without close()', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, 'x')
    expect(await openAndNeverClose(join(file, 'store'))).toBe('refused E_IO')
  })

  it('rejects ready with E_IO, at once, when its LOCK is a FIFO, and lets the process exit without close()', async () => {
    const dir = join(root, 'store')
    await mkdir(dir)
    execFileSync('mkfifo', [join(dir, 'LOCK')])
    const cache = createCache<string>({ cold: { dir } })
    await expect(cache.ready).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining(join(dir, 'LOCK')) })
    await cache.close()
    expect(await openAndNeverClose(dir)).toBe('refused E_IO')
  })
})
