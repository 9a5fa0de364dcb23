import { crc32c } from '@node-rs/crc32'
import { readFile } from 'node:fs/promises'
import { FLAG_TAGS } from './record-format.js'
import { replaceFileWhole } from '../../files/durable-file.js'
import { isTagList } from './tag-codec.js'
import { yieldToLoop } from './yield.js'

/** One record of a segment as its hint file lists it (no value). */
export interface HintEntry {
  key: string
  offset: number
  length: number
  expiresAt: number
  seq: number
  flags: number
  /** The record's encoded tag list (tag-codec.ts), present exactly when `flags` has FLAG_TAGS. */
  tags?: Buffer
}

/**
 * A hint lists every record of one sealed segment so opening can skip reading
 * the values (bitcask's hint files). Layout, little-endian:
 *
 *   header (20): u32 magic "SCH1", u8 version (2), u24 the segment's id mod 2^24 (0: not
 *                recorded, as by earlier writers), f64 segment size, u32 count
 *   entry  (28 + key [+ 2 + tags]): u32 offset, u32 length, f64 expiresAt, u32 seq low,
 *                      u32 seq high, u8 flags, u8 reserved, u16 key length, key,
 *                      then, when flags has FLAG_TAGS, u16 length and the record's tag list
 *   trailer (4): CRC-32C of everything before it
 *
 * The hint is used only when its version is this one, its CRC holds and the
 * segment still has the size it records; otherwise the segment is scanned
 * (and the hint written again). Segments only grow by appending, so a
 * matching size means the hinted bytes are the same bytes.
 *
 * Version 2 added the tags. Version 1 hints are ignored, never read: they
 * were written before records carried tags, and a reader that trusted an
 * entry without its tags would restore the key untagged.
 */
const HINT_MAGIC = 0x31484353
const HINT_VERSION = 2
const HEAD = 20
const ENTRY = 28
const SLICE = 2048
const TWO_32 = 0x1_0000_0000
const ID_TAG_RANGE = 1 << 24

export async function writeHint(path: string, segmentId: number, segmentSize: number, entries: readonly HintEntry[]): Promise<void> {
  const parts: Buffer[] = []
  const head = Buffer.alloc(HEAD)
  head.writeUInt32LE(HINT_MAGIC, 0)
  head[4] = HINT_VERSION
  head.writeUIntLE(segmentId % ID_TAG_RANGE, 5, 3)
  head.writeDoubleLE(segmentSize, 8)
  head.writeUInt32LE(entries.length, 16)
  parts.push(head)
  let crc = crc32c(head)
  for (let i = 0; i < entries.length; i += SLICE) {
    const slice = entries.slice(i, i + SLICE)
    let bytes = 0
    for (const e of slice) bytes += ENTRY + Buffer.byteLength(e.key) + ((e.flags & FLAG_TAGS) === 0 ? 0 : 2 + (e.tags as Buffer).length)
    const buf = Buffer.allocUnsafe(bytes)
    let at = 0
    for (const e of slice) {
      buf.writeUInt32LE(e.offset, at)
      buf.writeUInt32LE(e.length, at + 4)
      buf.writeDoubleLE(e.expiresAt, at + 8)
      buf.writeUInt32LE(e.seq % TWO_32, at + 16)
      buf.writeUInt32LE(Math.floor(e.seq / TWO_32), at + 20)
      buf[at + 24] = e.flags
      buf[at + 25] = 0
      const keyLength = buf.write(e.key, at + ENTRY, 'utf8')
      buf.writeUInt16LE(keyLength, at + 26)
      at += ENTRY + keyLength
      if ((e.flags & FLAG_TAGS) !== 0) {
        const tags = e.tags as Buffer
        buf.writeUInt16LE(tags.length, at)
        tags.copy(buf, at + 2)
        at += 2 + tags.length
      }
    }
    parts.push(buf)
    crc = crc32c(buf, crc)
    await yieldToLoop()
  }
  const trailer = Buffer.alloc(4)
  trailer.writeUInt32LE(crc, 0)
  parts.push(trailer)

  // A reader sees all or nothing. No directory sync: a rename lost to a power cut leaves the older hint, which reads as stale.
  await replaceFileWhole(path, parts)
}

/**
 * The entries of a valid hint for a segment of `segmentSize` bytes, in slices
 * of at most 2048, or undefined when the hint is missing, torn, stale or of
 * another version. Entries' `tags` are views into one buffer of the whole
 * hint: copy the ones you keep.
 */
/**
 * The entries of a whole hint of this version written for segment
 * `segmentId`, whatever size the segment has now: what the segment held when
 * the hint was written, for telling what it has lost since (cut short,
 * damaged). Undefined for a hint that does not name its segment.
 */
export async function readEarlierHint(path: string, segmentId: number): Promise<HintEntry[][] | undefined> {
  const tag = segmentId % ID_TAG_RANGE
  return tag === 0 ? undefined : readHint(path, undefined, tag)
}

export async function readHint(path: string, segmentSize: number | undefined, idTag?: number): Promise<HintEntry[][] | undefined> {
  let buf: Buffer
  try {
    buf = await readFile(path)
  } catch {
    return undefined
  }
  if (buf.length < HEAD + 4) return undefined
  if (crc32c(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) return undefined
  if (buf.readUInt32LE(0) !== HINT_MAGIC || buf[4] !== HINT_VERSION) return undefined
  if (segmentSize !== undefined && buf.readDoubleLE(8) !== segmentSize) return undefined
  if (idTag !== undefined && buf.readUIntLE(5, 3) !== idTag) return undefined
  const count = buf.readUInt32LE(16)
  const end = buf.length - 4
  const slices: HintEntry[][] = []
  let at = HEAD
  let slice: HintEntry[] = []
  for (let i = 0; i < count; i++) {
    if (at + ENTRY > end) return undefined
    const keyLength = buf.readUInt16LE(at + 26)
    if (at + ENTRY + keyLength > end) return undefined
    const e: HintEntry = {
      offset: buf.readUInt32LE(at),
      length: buf.readUInt32LE(at + 4),
      expiresAt: buf.readDoubleLE(at + 8),
      seq: buf.readUInt32LE(at + 20) * TWO_32 + buf.readUInt32LE(at + 16),
      flags: buf[at + 24],
      key: buf.toString('utf8', at + ENTRY, at + ENTRY + keyLength),
    }
    at += ENTRY + keyLength
    if ((e.flags & FLAG_TAGS) !== 0) {
      if (at + 2 > end) return undefined
      const tagsEnd = at + 2 + buf.readUInt16LE(at)
      if (tagsEnd > end || !isTagList(buf, at + 2, tagsEnd)) return undefined
      e.tags = buf.subarray(at + 2, tagsEnd)
      at = tagsEnd
    }
    slice.push(e)
    if (slice.length === SLICE) {
      slices.push(slice)
      slice = []
      await yieldToLoop()
    }
  }
  if (at !== end) return undefined
  if (slice.length > 0) slices.push(slice)
  return slices
}
