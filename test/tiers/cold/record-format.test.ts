import { crc32c } from '@node-rs/crc32'
import fc from 'fast-check'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeRecord, HEADER_BYTES, readHeader, recordLength, verifyReadBack, verifyRecord } from '../../../src/tiers/cold/record-format.js'
import { scanSegment } from '../../../src/tiers/cold/segment-scan.js'
import { makeTempDir } from './helpers.js'

const encode = (key: string, value: Uint8Array, flags = 0, expiresAt = 0, seq = 1): Buffer => {
  const k = Buffer.from(key)
  const buf = Buffer.alloc(recordLength(k.length, value.length))
  encodeRecord(buf, 0, k, value, flags, expiresAt, seq)
  return buf
}

describe('record format', () => {
  it('round-trips every header field, seq up to 2^53 - 1', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 255 }).map((f) => f & 0xf1),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4_000_000_000_000 })),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (key, value, flags, expiresAt, seq) => {
          const buf = encode(key, value, flags, expiresAt, seq)
          expect(buf.length).toBe(HEADER_BYTES + Buffer.byteLength(key) + value.length)
          const h = readHeader(buf, 0, buf.length)
          expect(h).toEqual({ flags, keyLength: Buffer.byteLength(key), bodyLength: value.length, expiresAt, seq })
          expect(verifyRecord(buf, 0, h!)).toBe(true)
          expect(verifyReadBack(buf, key, Buffer.byteLength(key), seq)).toBeDefined()
        },
      ),
    )
  })

  it('detects any single flipped bit', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (key, value, at, bit) => {
          const buf = encode(key, value, 0, 0, 7)
          buf[at % buf.length] ^= 1 << bit
          expect(verifyReadBack(buf, key, Buffer.byteLength(key), 7)).toBeUndefined()
        },
      ),
    )
  })

  it('a read-back for another key or seq fails even with a good CRC', () => {
    const buf = encode('a', Buffer.from('x'), 0, 0, 3)
    expect(verifyReadBack(buf, 'b', 1, 3)).toBeUndefined()
    expect(verifyReadBack(buf, 'a', 1, 4)).toBeUndefined()
  })
})

describe('record CRC on the write path', () => {
  it('is CRC-32C over header bytes 0..27, then key and body, as the native call computes it (header part now in JavaScript)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.uint8Array({ minLength: 0, maxLength: 2048 }),
        fc.integer({ min: 0, max: 0xf }),
        fc.oneof(fc.constant(0), fc.double({ min: 0, max: 4e12, noNaN: true })),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 7 }),
        (key, value, userFlags, expiresAt, seq, pad) => {
          const len = recordLength(key.length, value.length)
          const buf = Buffer.alloc(pad + len + 3, 0xa5)
          expect(encodeRecord(buf, pad, key, value, userFlags << 4, expiresAt, seq)).toBe(len)
          const head = crc32c(buf.subarray(pad, pad + 28))
          const expected = crc32c(buf.subarray(pad + HEADER_BYTES, pad + len), head)
          expect(buf.readUInt32LE(pad + 28)).toBe(expected)
          const h = readHeader(buf, pad, len)
          expect(h !== undefined && verifyRecord(buf, pad, h)).toBe(true)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('scanSegment', () => {
  let cleanup = async (): Promise<void> => undefined
  afterEach(() => cleanup())

  it('skips a corrupt record, resumes at the next good one, and flags a torn tail', async () => {
    const tmp = await makeTempDir()
    cleanup = tmp.cleanup
    const recs = Array.from({ length: 50 }, (_, i) => encode(`k${i}`, Buffer.alloc(100, i), 0, 0, i + 1))
    const file = Buffer.concat(recs)
    const second = recs[0].length
    file[second + 40] ^= 0xff // inside record 1's key/value
    const torn = file.subarray(0, file.length - 10)
    const path = join(tmp.dir, 'seg')
    const fh = await open(path, 'w+')
    await fh.write(torn, 0, torn.length, 0)
    const seen: string[] = []
    const corrupt: { offset: number; atEnd: boolean }[] = []
    for await (const slice of scanSegment(fh, torn.length, { maxRecordBytes: torn.length, chunkBytes: 512, sliceRecords: 7 })) {
      seen.push(...slice.records.map((r) => r.key))
      corrupt.push(...slice.corrupt)
      for (const r of slice.records) expect(r.value.equals(Buffer.alloc(100, Number(r.key.slice(1))))).toBe(true)
    }
    await fh.close()
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`).filter((k) => k !== 'k1' && k !== 'k49'))
    expect(corrupt).toEqual([
      // The damaged record's header still names its key: recovery must not let an older k1 stand in for it.
      {
        offset: second,
        length: second,
        atEnd: false,
        suspects: [
          { key: 'k1', seq: 2 },
          { key: 'k2', seq: 3 },
        ],
      },
      { offset: file.length - recs[49].length, length: recs[49].length - 10, atEnd: true, suspects: [{ key: 'k49', seq: 50 }] },
    ])
  })
})
