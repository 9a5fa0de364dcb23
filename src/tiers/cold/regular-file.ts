import { constants, type Dirent, type Stats } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { CacheError } from '../../errors.js'

// A symlink is refused rather than followed, and a FIFO opens at once instead
// of waiting for a writer (a wait that would hold a libuv thread, and so the
// process, forever). Neither flag changes anything for a regular file.
const NO_FOLLOW_NO_WAIT = (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

/** Errors of such an open that mean the name is taken by something other than a regular file. */
const NOT_REGULAR: Record<string, string> = {
  ELOOP: 'a symbolic link',
  EMLINK: 'a symbolic link', // FreeBSD's answer to O_NOFOLLOW
  EISDIR: 'a directory',
  ENXIO: 'a socket',
}

/** A file of the store's own names is something else: a directory, a symlink, a FIFO, … */
export class NotRegularFileError extends CacheError {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super('E_IO', `${path} is ${kind}, not a regular file`)
  }
}

/**
 * Opens `path` (`flags` as for open(2)) only when it is a regular file, and
 * never blocks on what it finds; rejects with NotRegularFileError otherwise.
 * Other errors (ENOENT, EACCES, …) come through as they are.
 */
export async function openRegularFile(path: string, flags: number): Promise<FileHandle> {
  let fh: FileHandle
  try {
    fh = await open(path, flags | NO_FOLLOW_NO_WAIT)
  } catch (e) {
    const kind = NOT_REGULAR[(e as NodeJS.ErrnoException).code ?? '']
    throw kind === undefined ? e : new NotRegularFileError(path, kind)
  }
  let stats: Stats
  try {
    stats = await fh.stat()
  } catch (e) {
    await fh.close()
    throw e
  }
  if (stats.isFile()) return fh
  await fh.close()
  throw new NotRegularFileError(path, kindOf(stats))
}

/** What a file that is not a regular one is, for messages. */
export function kindOf(file: Stats | Dirent): string {
  if (file.isDirectory()) return 'a directory'
  if (file.isSymbolicLink()) return 'a symbolic link'
  if (file.isFIFO()) return 'a FIFO'
  if (file.isSocket()) return 'a socket'
  if (file.isBlockDevice() || file.isCharacterDevice()) return 'a device'
  return 'an unknown kind of file'
}
