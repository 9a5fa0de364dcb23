import { open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { unlinkQuiet } from './unlink-quiet.js'

/** What a whole file is written from: text, bytes, or buffers written in order. */
type FileBytes = string | Uint8Array | readonly Uint8Array[]

/**
 * Replaces the file at `path` whole: written under a temporary name,
 * data-synced, then renamed over it, so that a reader sees the old file or
 * the new one, never a part. A failed write leaves no temporary file. The
 * new name survives a power cut only once its directory is synced too.
 */
export async function replaceFileWhole(path: string, bytes: FileBytes): Promise<void> {
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w')
  try {
    if (typeof bytes === 'string' || bytes instanceof Uint8Array) await fh.writeFile(bytes)
    else await fh.writev(bytes as Uint8Array[])
    await fh.datasync()
  } catch (error) {
    await fh.close()
    await unlinkQuiet(tmp)
    throw error
  }
  await fh.close()
  await rename(tmp, path)
}

/** Replaces the file at `path` whole, and makes its new contents survive a power cut: its directory is synced after the rename. */
export async function writeFileDurably(path: string, bytes: FileBytes): Promise<void> {
  await replaceFileWhole(path, bytes)
  await syncDirectory(dirname(path))
}

/** fsync of a directory, so that the files created, renamed and removed in it survive a power cut. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
