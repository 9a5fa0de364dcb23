// The model run on a disk that fails writes at random: a real 1 MiB tmpfs
// whose remaining room a filler file takes and gives back between operations
// (chmod would not do: we run as root, which permissions do not stop). Entries
// may be lost and calls rejected while the disk is full, but no read may ever
// return an older or a wrong value, in this process or after a restart.
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { commands, config, type Faults, faultyCommands, runAgainstModel, virtualClock } from './helpers/model-run.js'
import { mountTmpfs, type Tmpfs } from './helpers/tmpfs.js'

const FS_BYTES = 1 << 20
let fs: Tmpfs
let faults: Faults
beforeAll(async () => {
  fs = await mountTmpfs(FS_BYTES)
  const filler = join(fs.dir, 'filler')
  faults = {
    root: fs.dir,
    // Writes what fits and fails with ENOSPC: the filesystem is then full.
    fill: () => writeFile(filler, Buffer.alloc(FS_BYTES), { flag: 'a' }).catch(() => undefined),
    free: () => rm(filler, { force: true }),
  }
})
afterAll(async () => {
  await fs?.unmount()
})

describe('the adversary: the model run on a disk that fails writes at random (ENOSPC on a tmpfs)', () => {
  it('no read older than the last acknowledged write, no wrong value, across failures and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(config, faultyCommands(commands(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 600 }), 50)), async (c, cmds) => {
        await faults.free()
        await runAgainstModel(c, cmds, virtualClock(), faults)
      }),
      { numRuns: 200, plugins: [fc.interruptAfterTimeLimit(40_000)] },
    )
  }, 60_000)
})
