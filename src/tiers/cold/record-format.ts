import { crc32c } from '@node-rs/crc32'

/**
 * One record, little-endian, 32-byte header:
 *
 *   0  u32  magic 0x31524353 ("SCR1" on disk)
 *   4  u8   format version (1)
 *   5  u8   flags: bit 0 tombstone, bit 1 barrier (clear), bits 2-3 reserved,
 *           bits 4-7 the caller's (codec, compression), returned as-is
 *   6  u16  key length (utf8 bytes)
 *   8  u32  value length
 *  12  f64  expiresAt (ms since epoch, 0 = never)
 *  20  u32  sequence number, low 32 bits
 *  24  u32  sequence number, high 21 bits (seq < 2^53)
 *  28  u32  CRC-32C over bytes 0..27, then the key, then the value
 *  32  key bytes, then value bytes
 */
export const RECORD_MAGIC = 0x31524353
export const MAGIC_BYTES = Buffer.from([0x53, 0x43, 0x52, 0x31])
export const FORMAT_VERSION = 1
export const HEADER_BYTES = 32
export const MAX_KEY_BYTES = 0xffff

export const FLAG_TOMBSTONE = 0x01
export const FLAG_BARRIER = 0x02
export const USER_FLAGS_MASK = 0xf0
const KNOWN_FLAGS = FLAG_TOMBSTONE | FLAG_BARRIER | USER_FLAGS_MASK

const TWO_32 = 0x1_0000_0000

export interface RecordHeader {
  flags: number
  keyLength: number
  valueLength: number
  expiresAt: number
  seq: number
}

export const recordLength = (keyLength: number, valueLength: number): number =>
  HEADER_BYTES + keyLength + valueLength

/** Writes one record at `at` in `buf` (which must have room) and returns its length. */
export function encodeRecord(
  buf: Buffer,
  at: number,
  keyBytes: Uint8Array,
  value: Uint8Array,
  flags: number,
  expiresAt: number,
  seq: number,
): number {
  buf.writeUInt32LE(RECORD_MAGIC, at)
  buf[at + 4] = FORMAT_VERSION
  buf[at + 5] = flags
  buf.writeUInt16LE(keyBytes.length, at + 6)
  buf.writeUInt32LE(value.length, at + 8)
  buf.writeDoubleLE(expiresAt, at + 12)
  buf.writeUInt32LE(seq % TWO_32, at + 20)
  buf.writeUInt32LE(Math.floor(seq / TWO_32), at + 24)
  const body = at + HEADER_BYTES
  buf.set(keyBytes, body)
  buf.set(value, body + keyBytes.length)
  const end = body + keyBytes.length + value.length
  buf.writeUInt32LE(checksum(buf, at, end), at + 28)
  return end - at
}

function checksum(buf: Buffer, at: number, end: number): number {
  const head = crc32c(buf.subarray(at, at + 28))
  return crc32c(buf.subarray(at + HEADER_BYTES, end), head)
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
  const valueLength = buf.readUInt32LE(at + 8)
  if (recordLength(keyLength, valueLength) > maxRecordBytes) return undefined
  const expiresAt = buf.readDoubleLE(at + 12)
  const high = buf.readUInt32LE(at + 24)
  if (!(expiresAt >= 0) || high >= 1 << 21) return undefined
  return { flags, keyLength, valueLength, expiresAt, seq: high * TWO_32 + buf.readUInt32LE(at + 20) }
}

/** True when the record at `at` (whole, inside `buf`) matches its CRC. */
export function verifyRecord(buf: Buffer, at: number, header: RecordHeader): boolean {
  const end = at + recordLength(header.keyLength, header.valueLength)
  if (end > buf.length) return false
  return checksum(buf, at, end) === buf.readUInt32LE(at + 28)
}

export const recordKey = (buf: Buffer, at: number, header: RecordHeader): string =>
  buf.toString('utf8', at + HEADER_BYTES, at + HEADER_BYTES + header.keyLength)

export const recordValue = (buf: Buffer, at: number, header: RecordHeader): Buffer => {
  const start = at + HEADER_BYTES + header.keyLength
  return buf.subarray(start, start + header.valueLength)
}

/**
 * Checks a record read back for `key` at a known location: it must be whole,
 * match its CRC, carry the expected sequence number and hold exactly that key.
 * Returns the header, or undefined when any of that fails.
 */
export function verifyReadBack(
  buf: Buffer,
  key: string,
  keyBytesLength: number,
  seq: number,
): RecordHeader | undefined {
  const header = readHeader(buf, 0, buf.length)
  if (header === undefined || header.seq !== seq || header.keyLength !== keyBytesLength) return undefined
  if (recordLength(header.keyLength, header.valueLength) !== buf.length) return undefined
  if (!verifyRecord(buf, 0, header)) return undefined
  return recordKey(buf, 0, header) === key ? header : undefined
}
