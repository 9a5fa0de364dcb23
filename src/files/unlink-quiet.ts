import { unlink } from 'node:fs/promises'

/** Removes a file; one that is already gone is not an error. */
export async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
}
