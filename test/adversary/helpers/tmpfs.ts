import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Tmpfs {
  dir: string
  unmount(): Promise<void>
}

/**
 * A real filesystem of `bytes`, so that writes fail with ENOSPC as a full disk
 * makes them (needs root: `mount -t tmpfs`). Unmount it in afterAll, always.
 */
export async function mountTmpfs(bytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-adversary-tmpfs-'))
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir])
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw new Error(`cannot mount a tmpfs of ${bytes} bytes (these tests need root): ${String(error)}`)
  }
  return {
    dir,
    unmount: async () => {
      await run('umount', ['-l', dir]).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
