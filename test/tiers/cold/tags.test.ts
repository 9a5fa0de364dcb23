import { crc32c } from '@node-rs/crc32'
import fc from 'fast-check'
import { open, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readHint } from '../../../src/tiers/cold/hint-file.js'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import {
  encodeRecord,
  FLAG_TAGS,
  HEADER_BYTES,
  readHeader,
  recordLength,
  recordTags,
  recordValue,
  TAGS_LENGTH_BYTES,
  verifyReadBack,
  verifyRecord,
} from '../../../src/tiers/cold/record-format.js'
import { scanSegment } from '../../../src/tiers/cold/segment-scan.js'
import { decodeTags, encodeTags, MAX_TAG_BYTES, tagsProblem } from '../../../src/tiers/cold/tag-codec.js'
import { bytes, harness, hintFiles, makeTempDir, segmentFiles, text, type Harness } from './helpers.js'

const record = (key: string, value: Uint8Array, flags: number, tags?: readonly string[], seq = 1): Buffer => {
  const k = Buffer.from(key)
  const t = tags === undefined ? undefined : encodeTags(tags)
  const buf = Buffer.alloc(recordLength(k.length, value.length + (t === undefined ? 0 : TAGS_LENGTH_BYTES + t.length)))
  encodeRecord(buf, 0, k, value, t === undefined ? flags : flags | FLAG_TAGS, 0, seq, t)
  return buf
}

/** A well-formed tag: non-empty, no lone surrogate. */
const tag = fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }).filter((s) => tagsProblem([s]) === undefined)

describe('tags in a record', () => {
  it('round-trip with the value, under the CRC, whatever the tags and flags', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.array(tag, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 15 }),
        (key, value, tags, user) => {
          const buf = record(key, value, user << 4, tags, 9)
          const h = readHeader(buf, 0, buf.length)!
          expect(h.flags).toBe((user << 4) | FLAG_TAGS)
          expect(verifyRecord(buf, 0, h)).toBe(true)
          expect(verifyReadBack(buf, key, Buffer.byteLength(key), 9)).toBeDefined()
          expect(decodeTags(recordTags(buf, 0, h)!)).toEqual(tags)
          expect(recordValue(buf, 0, h).equals(Buffer.from(value))).toBe(true)
        },
      ),
    )
  })

  it('a record without the flag (as written before tags existed) reads as untagged, its body all value', () => {
    const value = Buffer.from('written before tags')
    const buf = record('old', value, 0x30)
    // Byte for byte what the encoder wrote before tags: header, key, value; body length = value length.
    expect(buf.length).toBe(HEADER_BYTES + 3 + value.length)
    expect(buf.readUInt32LE(8)).toBe(value.length)
    const h = readHeader(buf, 0, buf.length)!
    expect(h.flags & FLAG_TAGS).toBe(0)
    expect(verifyRecord(buf, 0, h)).toBe(true)
    expect(recordTags(buf, 0, h)).toBeUndefined()
    expect(recordValue(buf, 0, h).equals(value)).toBe(true)
  })

  it('any flipped bit in the tags fails the check', () => {
    fc.assert(
      fc.property(fc.array(tag, { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (tags, at, bit) => {
        const buf = record('k', Buffer.from('v'), 0, tags, 3)
        const start = HEADER_BYTES + 1
        const tagBytes = TAGS_LENGTH_BYTES + encodeTags(tags).length
        buf[start + (at % tagBytes)] ^= 1 << bit
        expect(verifyReadBack(buf, 'k', 1, 3)).toBeUndefined()
      }),
    )
  })

  it('a tag list that is not one fails the check even under a good CRC', () => {
    for (const bad of [[0x00], [0x05, 0x61], [0x80, 0x00], [0x81]]) {
      const buf = Buffer.alloc(recordLength(1, 1 + TAGS_LENGTH_BYTES + bad.length))
      encodeRecord(buf, 0, Buffer.from('k'), Buffer.from('v'), FLAG_TAGS, 0, 1, Buffer.from(bad))
      expect(verifyReadBack(buf, 'k', 1, 1), `tags ${bad}`).toBeUndefined()
    }
    const missing = Buffer.alloc(recordLength(1, 1))
    expect(() => encodeRecord(missing, 0, Buffer.from('k'), Buffer.from('v'), FLAG_TAGS, 0, 1)).toThrow()
  })

  it('encodes long and non-ASCII tags, and bounds the list to what a u16 holds', () => {
    const tags = ['ä', '🔑', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(20_000)]
    expect(decodeTags(encodeTags(tags))).toEqual(tags)
    expect(tagsProblem(['x'.repeat(MAX_TAG_BYTES - 3)])).toBeUndefined()
    expect(tagsProblem(['x'.repeat(MAX_TAG_BYTES - 2)])).toMatch(/at most 65535 bytes/)
    expect(tagsProblem(['ok', '\ud800'])).toMatch(/lone surrogate/)
    expect(tagsProblem(['ok', ''])).toMatch(/non-empty/)
  })

  it('the scanner returns the tags and the value apart', async () => {
    const tmp = await makeTempDir()
    try {
      const file = Buffer.concat([record('a', Buffer.from('1'), 0, ['x', 'y'], 1), record('b', Buffer.from('2'), 0, undefined, 2)])
      const path = join(tmp.dir, 'seg')
      await writeFile(path, file)
      const fh = await open(path, 'r')
      const seen: { key: string; value: string; tags: string[] | undefined }[] = []
      for await (const slice of scanSegment(fh, file.length, { maxRecordBytes: file.length })) {
        for (const r of slice.records) seen.push({ key: r.key, value: r.value.toString(), tags: r.tags && decodeTags(r.tags) })
        expect(slice.corrupt).toEqual([])
      }
      await fh.close()
      expect(seen).toEqual([
        { key: 'a', value: '1', tags: ['x', 'y'] },
        { key: 'b', value: '2', tags: undefined },
      ])
    } finally {
      await tmp.cleanup()
    }
  })
})

let h: Harness
let cleanup: () => Promise<void>
let store: ColdStore | undefined
let lost: string[]

const SEG = 16 * 1024
const val = (i: number, prefix = ''): Uint8Array => bytes(`${prefix}${i}:`.padEnd(200, '.'))
const tagsOf = (i: number): string[] => [`t${i % 3}`, 'all']

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  lost = []
  h = harness(tmp.dir, { segmentBytes: SEG, maxBytes: 64 * SEG, onLeave: (key, _reason, tagged) => tagged && lost.push(key) })
})
afterEach(async () => {
  await store?.close()
  store = undefined
  await cleanup()
})

async function fill(s: ColdStore, from: number, to: number, prefix = '', tagged = true): Promise<void> {
  for (let i = from; i < to; i += 20) {
    await s.putMany(
      Array.from({ length: Math.min(20, to - i) }, (_, j) => ({
        key: `k${i + j}`,
        value: val(i + j, prefix),
        expiresAt: 0,
        tags: tagged ? tagsOf(i + j) : undefined,
      })),
    )
  }
}

const sorted = (m: Map<string, readonly string[]>): Record<string, readonly string[]> => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)))

async function reopen(opts: { dropHints?: boolean; extra?: Parameters<Harness['open']>[0] } = {}): Promise<Record<string, readonly string[]>> {
  await store?.close()
  if (opts.dropHints === true) for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
  store = await h.open(opts.extra)
  return sorted(store.takeRecoveredTags())
}

async function drain(s: ColdStore, budget = 32 * 1024): Promise<void> {
  while (await s.maintain(budget));
}

describe('tags in the store', () => {
  it('get returns them; a reopen recovers them, from hints and by scan, the newest record of a key deciding', async () => {
    store = await h.open()
    await store.putMany([
      { key: 'plain', value: bytes('p'), expiresAt: 0 },
      { key: 'tagged', value: bytes('t'), expiresAt: 0, tags: ['a', 'b'], flags: 5 },
      { key: 'untagged-later', value: bytes('1'), expiresAt: 0, tags: ['a'] },
      { key: 'deleted', value: bytes('1'), expiresAt: 0, tags: ['a'] },
      { key: 'retagged', value: bytes('1'), expiresAt: 0, tags: ['a'] },
      { key: 'empty', value: bytes('1'), expiresAt: 0, tags: [] },
    ])
    await store.putMany([
      { key: 'untagged-later', value: bytes('2'), expiresAt: 0 },
      { key: 'retagged', value: bytes('2'), expiresAt: 0, tags: ['c'] },
    ])
    await store.delete('deleted')
    expect(await store.get('tagged')).toMatchObject({ flags: 5, tags: ['a', 'b'] })
    expect(text((await store.get('tagged'))?.value)).toBe('t')
    expect(await store.get('plain')).not.toHaveProperty('tags')
    expect(await store.get('empty')).not.toHaveProperty('tags')
    const expected = { retagged: ['c'], tagged: ['a', 'b'] }
    expect(await reopen()).toEqual(expected)
    expect(store!.takeRecoveredTags().size).toBe(0) // handed over once
    expect(await reopen({ dropHints: true })).toEqual(expected)
    expect(await reopen()).toEqual(expected) // the hints rewritten after the scan carry the tags
    expect(text((await store!.get('tagged'))?.value)).toBe('t')
  })

  it('a clear barrier drops the tags of everything before it', async () => {
    store = await h.open()
    await store.putMany([{ key: 'a', value: bytes('1'), expiresAt: 0, tags: ['x'] }])
    await store.clear()
    await store.putMany([{ key: 'b', value: bytes('2'), expiresAt: 0, tags: ['y'] }])
    expect(await reopen({ dropHints: true })).toEqual({ b: ['y'] })
  })

  it('compaction keeps the tags of the records it copies', async () => {
    store = await h.open()
    await fill(store, 0, 400)
    await fill(store, 0, 200, 'new-') // the first half of the first versions is dead
    const before = store.stats().diskBytes
    await drain(store)
    expect(store.stats().compactions).toBeGreaterThan(0)
    expect(store.stats().diskBytes).toBeLessThan(before)
    for (const i of [0, 199, 200, 399]) expect((await store.get(`k${i}`))?.tags, `k${i}`).toEqual(tagsOf(i))
    const all = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`k${i}`, tagsOf(i)]).sort(([a], [b]) => (a < b ? -1 : 1)))
    expect(await reopen()).toEqual(all)
    expect(await reopen({ dropHints: true })).toEqual(all)
    expect(lost).toEqual([])
    expect(h.errors).toEqual([])
  })

  it('eviction keeps the tags of the entries it reinserts and tells which tagged keys left', async () => {
    store = await h.open({ maxBytes: 8 * SEG })
    await fill(store, 0, 300)
    const read = [5, 17, 42]
    for (let i = 300; i < 900; i += 100) {
      // Read before each round, as in maintenance.test.ts: a read entry is reinserted, an unread one leaves.
      for (const k of read) expect(await store.get(`k${k}`)).toBeDefined()
      await fill(store, i, i + 100)
      await drain(store)
    }
    expect(store.stats().evictions).toBeGreaterThan(0)
    expect(lost).toContain('k0')
    expect(new Set(lost).size).toBe(lost.length)
    for (const key of lost) expect(store.has(key), key).toBe(false)
    for (const i of read) {
      expect(lost).not.toContain(`k${i}`)
      expect((await store.get(`k${i}`))?.tags).toEqual(tagsOf(i))
    }
    const recovered = await reopen({ dropHints: true })
    for (const i of read) expect(recovered[`k${i}`]).toEqual(tagsOf(i))
    expect(recovered.k0).toBeUndefined()
  })

  it('tells of tagged keys whose segment the hard bound dropped, of expired ones compacted away, and of corrupt ones', async () => {
    store = await h.open({ maxBytes: 4 * SEG })
    await fill(store, 0, 40, '', false) // untagged: never told
    await fill(store, 40, 600) // far past the bound, with no maintain(): oldest segments dropped whole
    expect(store.has('k0')).toBe(false)
    expect(store.has('k40')).toBe(false)
    await drain(store)
    expect(lost).toContain('k40')
    expect(lost.filter((k) => Number(k.slice(1)) < 40)).toEqual([])

    await store.close()
    store = undefined
    lost = []
    await cleanup()
    const tmp = await makeTempDir()
    cleanup = tmp.cleanup
    h = harness(tmp.dir, { segmentBytes: SEG, maxBytes: 64 * SEG, onLeave: (key, _reason, tagged) => tagged && lost.push(key) })
    store = await h.open()
    const t = h.clock.t
    await fill(store, 0, 60, 'a-')
    await store.putMany([{ key: 'ttl', value: val(0), expiresAt: t + 1000, tags: ['soon'] }])
    await fill(store, 0, 60, 'b-') // the first segment, where 'ttl' is, is now mostly dead
    await fill(store, 100, 200, 'pad-')
    h.clock.t += 1000
    await drain(store)
    expect(store.stats().compactions).toBeGreaterThan(0)
    expect(lost).toEqual(['ttl'])

    lost = []
    await store.close()
    store = undefined
    const segs = await segmentFiles(h.dir)
    const path = join(h.dir, segs[1])
    const file = await readFile(path)
    const at = file.indexOf('pad-120:')
    expect(at).toBeGreaterThan(0)
    file[at + 2] ^= 0xff
    await writeFile(path, file)
    store = await h.open() // under a valid hint: found at read time
    expect(await store.get('k120')).toBeUndefined()
    expect(h.errors.map((e) => e.code)).toContain('E_CORRUPT')
    expect(lost).toEqual(['k120'])
  })

  it('rejects bad tags with E_INVALID_OPTIONS and writes nothing of the batch', async () => {
    store = await h.open()
    await store.putMany([{ key: 'k', value: bytes('kept'), expiresAt: 0, tags: ['old'] }])
    for (const tags of [['x'.repeat(MAX_TAG_BYTES)], [''], ['\udc00'], 'x']) {
      await expect(
        store.putMany([
          { key: 'k', value: bytes('new'), expiresAt: 0 },
          { key: 'k', value: bytes('new'), expiresAt: 0, tags: tags as string[] },
        ]),
      ).rejects.toMatchObject({
        code: 'E_INVALID_OPTIONS',
      })
    }
    expect(await store.get('k')).toMatchObject({ tags: ['old'] })
    expect(text((await store.get('k'))?.value)).toBe('kept')
  })
})

/** A hint as version 1 wrote it: the same entries without tags, the tags bit cleared, so a reader that ignored the version would take it. */
function versionOneHint(
  segmentSize: number,
  entries: { key: string; offset: number; length: number; expiresAt: number; seq: number; flags: number }[],
): Buffer {
  const head = Buffer.alloc(20)
  head.writeUInt32LE(0x31484353, 0)
  head[4] = 1
  head.writeDoubleLE(segmentSize, 8)
  head.writeUInt32LE(entries.length, 16)
  const parts = [head]
  for (const e of entries) {
    const key = Buffer.from(e.key)
    const b = Buffer.alloc(28 + key.length)
    b.writeUInt32LE(e.offset, 0)
    b.writeUInt32LE(e.length, 4)
    b.writeDoubleLE(e.expiresAt, 8)
    b.writeUInt32LE(e.seq % 2 ** 32, 16)
    b.writeUInt32LE(Math.floor(e.seq / 2 ** 32), 20)
    b[24] = e.flags & ~FLAG_TAGS
    b.writeUInt16LE(key.length, 26)
    key.copy(b, 28)
    parts.push(b)
  }
  const body = Buffer.concat(parts)
  const crc = Buffer.alloc(4)
  crc.writeUInt32LE(crc32c(body), 0)
  return Buffer.concat([body, crc])
}

describe('hint files', () => {
  it('a version 1 hint is ignored: the segment is scanned (tags found) and its hint written again as version 2', async () => {
    store = await h.open()
    await fill(store, 0, 200) // several sealed segments, each with a hint
    await store.close()
    store = undefined
    const segs = await segmentFiles(h.dir)
    const hints = await hintFiles(h.dir)
    expect(hints.length).toBeGreaterThan(2)
    for (const hint of hints) {
      const path = join(h.dir, hint)
      const size = (await readFile(join(h.dir, hint.replace('.hint', '.log')))).length
      const entries = (await readHint(path, size))!.flat()
      expect(entries.every((e) => (e.flags & FLAG_TAGS) !== 0 && e.tags !== undefined)).toBe(true)
      await writeFile(path, versionOneHint(size, entries))
      expect((await readFile(path))[4]).toBe(1)
    }
    const recovered = await reopen()
    expect(Object.keys(recovered)).toHaveLength(200)
    expect(recovered.k7).toEqual(tagsOf(7))
    await store!.close()
    store = undefined
    for (const hint of hints) expect((await readFile(join(h.dir, hint)))[4], hint).toBe(2)
    expect(await segmentFiles(h.dir)).toEqual(segs)
    expect(h.errors).toEqual([])
  })
})
