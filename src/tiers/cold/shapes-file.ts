import { constants } from 'node:fs'
import { join } from 'node:path'
import { crc32c } from '@node-rs/crc32'
import { Packr } from 'msgpackr'
import type { RecordShape } from '../../codec/shared-records.js'
import { syncDirectory } from '../../files/durable-file.js'
import { openRegularFile } from './regular-file.js'

export const SHAPES_NAME = 'SHAPES'

// Each save appends one frame: payload length (u32 LE), CRC-32C of the payload
// (u32 LE), then the payload: msgpack of [from, shapes]. A frame is read only
// if whole, checked and continuing the ones before it: a torn last frame is
// cut off at open, before anything is appended after it.
const FRAME_HEAD = 8
// 32 shapes of at most 1,024 characters (up to 3 bytes each in UTF-8) and 64 names: well under this.
const MAX_FILE_BYTES = 1 << 20
const plain = new Packr({ useRecords: false })

/**
 * The record shapes a store's values refer to (see SharedRecords), in a
 * file beside its segments. A shape is saved, with a data sync, before any
 * value refers to it; the file is opened for each save and closed after it.
 */
export class ShapesFile {
  readonly #path: string
  readonly #dir: string
  #size: number
  #created: boolean
  #saving: Promise<void> = Promise.resolve()

  private constructor(dir: string, size: number) {
    this.#dir = dir
    this.#path = join(dir, SHAPES_NAME)
    this.#size = size
    this.#created = size > 0
  }

  /** Reads the shapes saved in `dir` (none when there is no file), and cuts off a torn last frame. */
  static async open(dir: string): Promise<{ file: ShapesFile; shapes: RecordShape[] }> {
    let bytes: Buffer
    try {
      const fh = await openRegularFile(join(dir, SHAPES_NAME), constants.O_RDWR)
      try {
        const { size } = await fh.stat()
        bytes = Buffer.allocUnsafe(Math.min(size, MAX_FILE_BYTES))
        const { bytesRead } = await fh.read(bytes, 0, bytes.length, 0)
        const { shapes, length } = readFrames(bytes.subarray(0, bytesRead))
        if (length < size) {
          await fh.truncate(length)
          await fh.datasync()
        }
        return { file: new ShapesFile(dir, length), shapes }
      } finally {
        await fh.close()
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      return { file: new ShapesFile(dir, 0), shapes: [] }
    }
  }

  /** Appends `shapes`, numbered from `from`, durably. */
  save(shapes: readonly RecordShape[], from: number): Promise<void> {
    const saved = this.#saving.then(() => this.#append(shapes, from))
    this.#saving = saved.catch(() => undefined)
    return saved
  }

  /** Resolves once no save is under way. */
  settled(): Promise<void> {
    return this.#saving
  }

  async #append(shapes: readonly RecordShape[], from: number): Promise<void> {
    const payload = plain.pack([from, shapes])
    const frame = Buffer.allocUnsafe(FRAME_HEAD + payload.length)
    frame.writeUInt32LE(payload.length, 0)
    frame.writeUInt32LE(crc32c(payload), 4)
    frame.set(payload, FRAME_HEAD)
    const fh = await openRegularFile(this.#path, constants.O_WRONLY | constants.O_CREAT)
    try {
      await fh.write(frame, 0, frame.length, this.#size)
      await fh.datasync()
    } finally {
      await fh.close()
    }
    if (!this.#created) {
      // A new file's name must survive a power cut too.
      await syncDirectory(this.#dir)
      this.#created = true
    }
    this.#size += frame.length
  }
}

/** The shapes of the whole, checked, continuing frames at the start of `bytes`, and where they end. */
function readFrames(bytes: Buffer): { shapes: RecordShape[]; length: number } {
  const shapes: RecordShape[] = []
  let at = 0
  while (at + FRAME_HEAD <= bytes.length) {
    const length = bytes.readUInt32LE(at)
    const end = at + FRAME_HEAD + length
    if (end > bytes.length) break
    const payload = bytes.subarray(at + FRAME_HEAD, end)
    if (crc32c(payload) !== bytes.readUInt32LE(at + 4)) break
    const frame = decodeFrame(payload)
    if (frame === undefined || frame.from !== shapes.length) break
    shapes.push(...frame.shapes)
    at = end
  }
  return { shapes, length: at }
}

function decodeFrame(payload: Buffer): { from: number; shapes: RecordShape[] } | undefined {
  let decoded: unknown
  try {
    decoded = plain.unpack(payload)
  } catch {
    return undefined
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) return undefined
  const [from, shapes] = decoded as [unknown, unknown]
  if (typeof from !== 'number' || !Array.isArray(shapes)) return undefined
  const isShape = (shape: unknown): shape is RecordShape => Array.isArray(shape) && shape.every((name) => typeof name === 'string')
  return shapes.every(isShape) ? { from, shapes } : undefined
}
