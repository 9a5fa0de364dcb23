import { constants } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LOCK_NAME } from '../tiers/cold/dir-lock.js'
import { openRegularFile } from '../tiers/cold/regular-file.js'
import { SegmentSet, hintFile, segmentFile } from '../tiers/cold/segment-set.js'
import { CliError, describeFsError } from './cli-error.js'

export interface StoreFile {
  id: number
  name: string
  path: string
}

export interface StoreDir {
  dir: string
  /** Oldest (lowest id) first; the last one is the store's newest segment. */
  segments: StoreFile[]
  /** Who holds the LOCK file, as it says; null when there is none. */
  lock: { pid: number; host: string } | null
}

/**
 * The segment files of a store directory, found the way the engine finds them.
 * Rejects with a CliError (exit 2) when `dir` is missing, unreadable, not a
 * directory, or holds no segment file (an opened store always has one).
 */
export async function readStoreDir(dir: string): Promise<StoreDir> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new CliError(`${dir}: not a directory`)
  } catch (e) {
    throw e instanceof CliError ? e : describeFsError(e, dir)
  }
  let ids: number[]
  try {
    ids = await new SegmentSet(dir).listIds()
  } catch (e) {
    throw describeFsError(e, dir)
  }
  if (ids.length === 0) throw new CliError(`${dir}: not a strata-cache store (no seg-NNNNNNNN.log files)`)
  const segments = ids.map((id) => ({ id, name: segmentFile(id), path: join(dir, segmentFile(id)) }))
  return { dir, segments, lock: await readLock(dir) }
}

export const hintPath = (dir: string, id: number): string => join(dir, hintFile(id))

async function readLock(dir: string): Promise<StoreDir['lock']> {
  try {
    // Opened as the store opens it: a LOCK that is a FIFO must not hang the tool.
    const fh = await openRegularFile(join(dir, LOCK_NAME), constants.O_RDONLY)
    let text: string
    try {
      text = (await fh.readFile('utf8')).slice(0, 512)
    } finally {
      await fh.close()
    }
    const [pid, host] = text.split('\n')
    return { pid: Number(pid), host: host ?? '' }
  } catch {
    // No lock file (or an unreadable one): the store is closed, or its holder died.
    return null
  }
}
