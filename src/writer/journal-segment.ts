import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import { CacheError } from '../errors.js'
import { syncDirectory } from '../files/durable-file.js'
import { unlinkQuiet } from '../files/unlink-quiet.js'
import { yieldToLoop } from '../tiers/cold/yield.js'
import { segmentName } from './journal-replay.js'

/** One journal segment open for appends: records end at `size`. */
export interface JournalSegment {
  id: number
  fh: FileHandle
  size: number
}

/** Zeros written between two yields to the event loop. */
const SLICE = 64 << 10
const ZEROS = Buffer.alloc(SLICE)

/** Creates an empty segment whose name is durable; a failure leaves no file. */
export async function createSegment(dir: string, id: number): Promise<JournalSegment> {
  const path = join(dir, segmentName(id))
  const fh = await open(path, 'wx')
  try {
    // The new name must be durable before a record in it is acknowledged.
    await syncDirectory(dir)
  } catch (e) {
    await fh.close()
    await unlinkQuiet(path)
    throw e
  }
  return { id, fh, size: 0 }
}

/**
 * A segment made before it is needed: created, filled with zeros to its full
 * size in slices that yield, and made durable with its name. Appends then
 * overwrite blocks the file already has, so their `datasync` flushes data
 * only, not a file size (a metadata commit, the slow tail of a datasync on
 * ext4 and xfs). Replay ends a segment at its zero tail: a zero length is no
 * record.
 */
export class PreparedSegment {
  readonly id: number
  readonly #dir: string
  readonly #bytes: number
  readonly #done: Promise<FileHandle>
  #stopped = false

  private constructor(dir: string, id: number, bytes: number) {
    this.id = id
    this.#dir = dir
    this.#bytes = bytes
    this.#done = this.#prepare()
    this.#done.catch(() => undefined)
  }

  /** Begins preparing segment `id` of `bytes` bytes in `dir`. */
  static start(dir: string, id: number, bytes: number): PreparedSegment {
    return new PreparedSegment(dir, id, bytes)
  }

  /** The segment once every zero is written and durable; rejects `E_IO` (the file removed). */
  async ready(): Promise<JournalSegment> {
    return { id: this.id, fh: await this.#done, size: 0 }
  }

  /**
   * Stops the filling after the slice under way and hands the segment over:
   * its name durable, its zeros as far as they reached (appends past them
   * grow the file, as a plain segment does). Undefined when preparing failed
   * (the file removed).
   */
  async take(): Promise<JournalSegment | undefined> {
    this.#stopped = true
    try {
      return await this.ready()
    } catch {
      return undefined
    }
  }

  /** Stops, closes and removes the file. */
  async discard(): Promise<void> {
    this.#stopped = true
    const fh = await this.#done.catch(() => undefined)
    if (fh === undefined) return
    await fh.close()
    await unlinkQuiet(join(this.#dir, segmentName(this.id)))
  }

  async #prepare(): Promise<FileHandle> {
    const path = join(this.#dir, segmentName(this.id))
    let fh: FileHandle | undefined
    try {
      fh = await open(path, 'wx')
      let filled = 0
      while (filled < this.#bytes && !this.#stopped) {
        const length = Math.min(SLICE, this.#bytes - filled)
        const { bytesWritten } = await fh.write(ZEROS, 0, length, filled)
        filled += bytesWritten
        await yieldToLoop()
      }
      // fsync, not datasync: the file's size and blocks are what this commits.
      if (!this.#stopped) await fh.sync()
      await syncDirectory(this.#dir)
      return fh
    } catch (e) {
      await fh?.close().catch(() => undefined)
      if (fh !== undefined) await unlinkQuiet(path).catch(() => undefined)
      throw new CacheError('E_IO', `cannot prepare the journal segment ${path}: ${(e as Error).message}`, { cause: e })
    }
  }
}
