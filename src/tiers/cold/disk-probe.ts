import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { unlinkQuiet } from '../../files/unlink-quiet.js'

const PROBE_NAME = 'PROBE'
/** Enough to need new blocks of a full filesystem: a write into an allocated page of a segment could still succeed there. */
const PROBE_BYTES = new Uint8Array(64 * 1024)

/**
 * Whether the directory takes writes again: writes a file of zeros, syncs
 * it and removes it; rejects with the error that stops it (ENOSPC, EIO,
 * EROFS...). Made with O_EXCL after removing a leftover, so that a FIFO or
 * a link under its name is never opened.
 */
export async function probeDisk(dir: string): Promise<void> {
  const path = join(dir, PROBE_NAME)
  await unlinkQuiet(path)
  const file = await open(path, 'wx')
  try {
    await file.write(PROBE_BYTES)
    await file.datasync()
  } finally {
    await file.close()
    await unlinkQuiet(path)
  }
}
