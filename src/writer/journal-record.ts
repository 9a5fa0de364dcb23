import { crc32c } from '@node-rs/crc32'

/**
 * One journal record: a write-back op, durable before it is acknowledged.
 *
 * ```
 * u32 body length | u32 CRC-32C of the body | body:
 *   f64 seq | u8 type (0 set, 1 delete) | f64 expiresAt (0: none) | u16 key bytes | key (UTF-8) | value bytes (set only)
 * ```
 *
 * Little-endian. A record whose length runs past the file, or whose CRC does
 * not match, is a torn tail: the segment's replay ends there.
 */
export interface JournalRecord {
  seq: number
  type: 'set' | 'delete'
  key: string
  /** Absolute expiry on the scheduler's clock; 0 for none. */
  expiresAt: number
  /** The codec's bytes of the value; empty for a delete. */
  value: Uint8Array
}

const HEAD = 8
const FIXED = 8 + 1 + 8 + 2
/** Larger than any record a cache writes (a key of 64 KiB, a value under 1 GiB): a length past it is garbage. */
const MAX_BODY = 1 << 30

export function encodeRecord(record: JournalRecord): Buffer {
  const keyBytes = Buffer.byteLength(record.key)
  const body = FIXED + keyBytes + record.value.length
  const buf = Buffer.allocUnsafe(HEAD + body)
  buf.writeUInt32LE(body, 0)
  buf.writeDoubleLE(record.seq, 8)
  buf.writeUInt8(record.type === 'set' ? 0 : 1, 16)
  buf.writeDoubleLE(record.expiresAt, 17)
  buf.writeUInt16LE(keyBytes, 25)
  buf.write(record.key, 27, 'utf8')
  buf.set(record.value, 27 + keyBytes)
  buf.writeUInt32LE(crc32c(buf.subarray(HEAD)), 4)
  return buf
}

/** The record at `at` and where the next begins; undefined at the end or at a torn or corrupt record. */
export function decodeRecord(buf: Buffer, at: number): { record: JournalRecord; next: number } | undefined {
  if (at + HEAD + FIXED > buf.length) return undefined
  const body = buf.readUInt32LE(at)
  const end = at + HEAD + body
  if (body < FIXED || body > MAX_BODY || end > buf.length) return undefined
  if (crc32c(buf.subarray(at + HEAD, end)) !== buf.readUInt32LE(at + 4)) return undefined
  const type = buf.readUInt8(at + 16)
  const keyBytes = buf.readUInt16LE(at + 25)
  const keyEnd = at + 27 + keyBytes
  if ((type !== 0 && type !== 1) || keyEnd > end) return undefined
  return {
    record: {
      seq: buf.readDoubleLE(at + 8),
      type: type === 0 ? 'set' : 'delete',
      expiresAt: buf.readDoubleLE(at + 17),
      key: buf.toString('utf8', at + 27, keyEnd),
      value: buf.subarray(keyEnd, end),
    },
    next: end,
  }
}
