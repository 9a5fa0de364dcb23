import { unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { unlinkQuiet } from '../../files/unlink-quiet.js'

/** A file of zeros kept beside the segments, freed when a full disk must still take tombstones: room for about 2,000. */
const RESERVE_NAME = 'RESERVE'
const RESERVE_BYTES = 64 * 1024

/** Makes the reserve file in `dir` if it is missing; a disk too full for it only goes without. */
export async function keepReserve(dir: string): Promise<void> {
  const path = join(dir, RESERVE_NAME)
  await writeFile(path, Buffer.alloc(RESERVE_BYTES), { flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') await unlinkQuiet(path)
  })
}

/** Frees the reserve of `dir`: true when there was one to free. */
export async function releaseReserve(dir: string): Promise<boolean> {
  try {
    await unlink(join(dir, RESERVE_NAME))
    return true
  } catch {
    return false
  }
}
