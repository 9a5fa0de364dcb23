import { crc32c } from '@node-rs/crc32'
import { isTagList } from './tag-codec.js'

/**
 * One record, little-endian, 32-byte header:
 *
 *   0  u32  magic 0x31524353 ("SCR1" on disk)
 *   4  u8   format version (1)
 *   5  u8   flags: bit 0 tombstone, bit 1 barrier (clear), bit 2 tags,
 *           bit 3 reserved, bits 4-7 the caller's (codec, compression), returned as-is
 *   6  u16  key length (utf8 bytes)
 *   8  u32  body length: the bytes after the key (the value, after the tags when bit 2 is set)
 *  12  f64  expiresAt (ms since epoch, 0 = never)
 *  20  u32  sequence number, low 32 bits
 *  24  u32  sequence number, high 21 bits (seq < 2^53)
 *  28  u32  CRC-32C over bytes 0..27, then the key, then the body
 *  32  key bytes, then the body:
 *        without bit 2: the value
 *        with bit 2:    u16 length T of the tag list, the tag list (T bytes,
 *                       tag-codec.ts: per tag a varint length and its UTF-8), the value
 *
 * Tags are a flag and a prefix of the body rather than a new format version:
 * every record written before them (bit 2 was reserved, so always clear) is
 * still exactly a valid record, read as untagged, with no migration and no
 * second layout to parse; an untagged record costs not one byte more; and the
 * tags sit under the record's CRC with its key and value. A version bump would
 * have bought nothing in return: an older reader rejects both (it rejects any
 * flag it does not know as it rejects another version), so a store that holds
 * tagged records must not be opened by a version before tags were stored.
 */
const RECORD_MAGIC = 0x31524353
export const MAGIC_BYTES = Buffer.from([0x53, 0x43, 0x52, 0x31])
export const FORMAT_VERSION = 1
export const HEADER_BYTES = 32
export const MAX_KEY_BYTES = 0xffff
/** The u16 before a record's tag list. */
export const TAGS_LENGTH_BYTES = 2

export const FLAG_TOMBSTONE = 0x01
export const FLAG_BARRIER = 0x02
export const FLAG_TAGS = 0x04
export const USER_FLAGS_MASK = 0xf0
const KNOWN_FLAGS = FLAG_TOMBSTONE | FLAG_BARRIER | FLAG_TAGS | USER_FLAGS_MASK

const TWO_32 = 0x1_0000_0000

export interface RecordHeader {
  flags: number
  keyLength: number
  /** Bytes after the key: the value, preceded by the tags when FLAG_TAGS is set. */
  bodyLength: number
  expiresAt: number
  seq: number
}

export const recordLength = (keyLength: number, bodyLength: number): number => HEADER_BYTES + keyLength + bodyLength

/** Body length of a value with an encoded tag list (or none). */
export const bodyLength = (valueLength: number, tags: Uint8Array | undefined): number =>
  tags === undefined ? valueLength : TAGS_LENGTH_BYTES + tags.length + valueLength

/**
 * Writes one record at `at` in `buf` (which must have room) and returns its
 * length. `tags` is an encoded tag list (tag-codec.ts), given exactly when
 * `flags` has FLAG_TAGS.
 */
export function encodeRecord(
  buf: Buffer,
  at: number,
  keyBytes: Uint8Array,
  value: Uint8Array,
  flags: number,
  expiresAt: number,
  seq: number,
  tags?: Uint8Array,
): number {
  if (((flags & FLAG_TAGS) !== 0) !== (tags !== undefined)) throw new Error('encodeRecord: FLAG_TAGS must be set exactly when tags are given')
  buf.writeUInt32LE(RECORD_MAGIC, at)
  buf[at + 4] = FORMAT_VERSION
  buf[at + 5] = flags
  buf.writeUInt16LE(keyBytes.length, at + 6)
  buf.writeUInt32LE(bodyLength(value.length, tags), at + 8)
  buf.writeDoubleLE(expiresAt, at + 12)
  buf.writeUInt32LE(seq % TWO_32, at + 20)
  buf.writeUInt32LE(Math.floor(seq / TWO_32), at + 24)
  let p = at + HEADER_BYTES
  buf.set(keyBytes, p)
  p += keyBytes.length
  if (tags !== undefined) {
    buf.writeUInt16LE(tags.length, p)
    buf.set(tags, p + TAGS_LENGTH_BYTES)
    p += TAGS_LENGTH_BYTES + tags.length
  }
  buf.set(value, p)
  const end = p + value.length
  buf.writeUInt32LE(encodeChecksum(buf, at, end), at + 28)
  return end - at
}

function checksum(buf: Buffer, at: number, end: number): number {
  const head = crc32c(buf.subarray(at, at + 28))
  return crc32c(buf.subarray(at + HEADER_BYTES, end), head)
}

/** The same CRC as `checksum`, for the write path: the header's part in JavaScript. */
function encodeChecksum(buf: Buffer, at: number, end: number): number {
  return crc32c(buf.subarray(at + HEADER_BYTES, end), headerCrc(buf, at))
}

/** CRC-32C (Castagnoli, reflected) table for the header's 28 bytes. */
const CRC32C_TABLE = new Int32Array(256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  CRC32C_TABLE[n] = c
}

/**
 * CRC-32C of the header's first 28 bytes, in JavaScript: the same value as
 * `crc32c(buf.subarray(at, at + 28))`, but without a native call and a view
 * per record (~40 ns against ~120 ns); the native call is kept for the key
 * and body, where its hardware CRC pays.
 */
function headerCrc(buf: Buffer, at: number): number {
  let c = -1
  for (let i = at, end = at + 28; i < end; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

/**
 * The header at `at`, or undefined when it cannot be one of ours (wrong magic,
 * version or flags, or a length past `maxRecordBytes`). Does not check the CRC.
 */
export function readHeader(buf: Buffer, at: number, maxRecordBytes: number): RecordHeader | undefined {
  if (at + HEADER_BYTES > buf.length) return undefined
  if (buf.readUInt32LE(at) !== RECORD_MAGIC || buf[at + 4] !== FORMAT_VERSION) return undefined
  const flags = buf[at + 5]
  if ((flags & ~KNOWN_FLAGS) !== 0) return undefined
  const keyLength = buf.readUInt16LE(at + 6)
  const body = buf.readUInt32LE(at + 8)
  if (recordLength(keyLength, body) > maxRecordBytes) return undefined
  if ((flags & FLAG_TAGS) !== 0 && body < TAGS_LENGTH_BYTES) return undefined
  const expiresAt = buf.readDoubleLE(at + 12)
  const high = buf.readUInt32LE(at + 24)
  if (!(expiresAt >= 0) || high >= 1 << 21) return undefined
  return { flags, keyLength, bodyLength: body, expiresAt, seq: high * TWO_32 + buf.readUInt32LE(at + 20) }
}

/** Where the record's tag list lies in `buf`, or undefined when it has none. Assumes a verified record. */
function tagSpan(buf: Buffer, at: number, header: RecordHeader): { start: number; end: number } | undefined {
  if ((header.flags & FLAG_TAGS) === 0) return undefined
  const start = at + HEADER_BYTES + header.keyLength + TAGS_LENGTH_BYTES
  return { start, end: start + buf.readUInt16LE(start - TAGS_LENGTH_BYTES) }
}

/**
 * True when the record at `at` (whole, inside `buf`) matches its CRC and,
 * when it says it has tags, holds a well-formed tag list inside its body.
 */
export function verifyRecord(buf: Buffer, at: number, header: RecordHeader): boolean {
  const end = at + recordLength(header.keyLength, header.bodyLength)
  if (end > buf.length) return false
  if (checksum(buf, at, end) !== buf.readUInt32LE(at + 28)) return false
  const tags = tagSpan(buf, at, header)
  return tags === undefined || (tags.end <= end && isTagList(buf, tags.start, tags.end))
}

export const recordKey = (buf: Buffer, at: number, header: RecordHeader): string =>
  buf.toString('utf8', at + HEADER_BYTES, at + HEADER_BYTES + header.keyLength)

/** The encoded tag list of a verified record (a view), or undefined when it has none. */
export const recordTags = (buf: Buffer, at: number, header: RecordHeader): Buffer | undefined => {
  const span = tagSpan(buf, at, header)
  return span === undefined ? undefined : buf.subarray(span.start, span.end)
}

/** The value of a verified record (a view): its body after the tags, if any. */
export const recordValue = (buf: Buffer, at: number, header: RecordHeader): Buffer => {
  const end = at + recordLength(header.keyLength, header.bodyLength)
  const span = tagSpan(buf, at, header)
  return buf.subarray(span === undefined ? at + HEADER_BYTES + header.keyLength : span.end, end)
}

/**
 * Checks a record read back for `key` at a known location: it must be whole,
 * match its CRC, carry the expected sequence number and hold exactly that key.
 * Returns the header, or undefined when any of that fails.
 */
export function verifyReadBack(buf: Buffer, key: string, keyBytesLength: number, seq: number): RecordHeader | undefined {
  const header = readHeader(buf, 0, buf.length)
  if (header === undefined || header.seq !== seq || header.keyLength !== keyBytesLength) return undefined
  if (recordLength(header.keyLength, header.bodyLength) !== buf.length) return undefined
  if (!verifyRecord(buf, 0, header)) return undefined
  return recordKey(buf, 0, header) === key ? header : undefined
}
