import { mkdtemp, open, readdir, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CacheError } from '../../src/errors.js'
import { Journal } from '../../src/writer/journal.js'
import { decodeRecord, encodeRecord, type JournalRecord } from '../../src/writer/journal-record.js'
import { replayJournal, segmentName } from '../../src/writer/journal-replay.js'

const dirs: string[] = []
const fresh = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-journal-'))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  vi.restoreAllMocks()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

const record = (seq: number, key: string, value = `v${seq}`): Buffer => encodeRecord({ seq, type: 'set', key, expiresAt: 0, value: Buffer.from(value) })
const ignore = (): void => undefined
const segments = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name.endsWith('.log')).sort()

/** The prototype of fs/promises FileHandle, whose methods the journal calls. */
async function fileHandlePrototype(dir: string): Promise<{ datasync(): Promise<void>; write: unknown }> {
  const fh = await open(join(dir, 'probe'), 'w')
  await fh.close()
  return Object.getPrototypeOf(fh)
}

describe('journal records', () => {
  it('round-trip a set and a delete, and refuse a record whose bytes changed', () => {
    const set: JournalRecord = { seq: 7, type: 'set', key: 'clé', expiresAt: 1234.5, value: Buffer.from([1, 2, 3]) }
    const del: JournalRecord = { seq: 8, type: 'delete', key: 'k', expiresAt: 0, value: Buffer.alloc(0) }
    const buf = Buffer.concat([encodeRecord(set), encodeRecord(del)])
    const first = decodeRecord(buf, 0)!
    expect({ ...first.record, value: [...first.record.value] }).toEqual({ ...set, value: [1, 2, 3] })
    expect(decodeRecord(buf, first.next)!.record).toMatchObject({ seq: 8, type: 'delete', key: 'k' })
    const flipped = Buffer.from(buf)
    flipped[20] ^= 1
    expect(decodeRecord(flipped, 0)).toBeUndefined()
    expect(decodeRecord(buf.subarray(0, first.next - 1), 0)).toBeUndefined()
  })
})

describe('journal', () => {
  it('replays each key’s last op in seq order after a reopen', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore)
    await Promise.all([journal.append(record(1, 'a')), journal.append(record(2, 'b')), journal.append(record(3, 'a'))])
    await journal.append(record(4, 'c'))
    // Left as a crash leaves it: not closed (close would reclaim nothing here, ops are live).
    const { last, maxSeq } = await replayJournal(dir)
    expect(last.map((r) => [r.record.key, r.record.seq, Buffer.from(r.record.value).toString()])).toEqual([
      ['b', 2, 'v2'],
      ['a', 3, 'v3'],
      ['c', 4, 'v4'],
    ])
    expect(maxSeq).toBe(4)
    await journal.close()
  })

  it('ends a segment’s replay at a torn tail or a bad CRC, and goes on with the next segment', async () => {
    const dir = await fresh()
    const one = Buffer.concat([record(1, 'a'), record(2, 'b')])
    await writeFile(join(dir, segmentName(1)), Buffer.concat([one, record(3, 'c')]))
    await truncate(join(dir, segmentName(1)), one.length + 5)
    const two = Buffer.concat([record(4, 'd'), record(5, 'e'), record(6, 'f')])
    two[record(4, 'd').length + 12] ^= 0xff
    await writeFile(join(dir, segmentName(2)), two)
    const { last } = await replayJournal(dir)
    expect(last.map((r) => r.record.key)).toEqual(['a', 'b', 'd'])
  })

  it('shares one datasync among the appends made while one runs (group commit)', async () => {
    const dir = await fresh()
    const proto = await fileHandlePrototype(dir)
    const { journal } = await Journal.open(dir, ignore)
    const syncs = vi.spyOn(proto, 'datasync')
    const first = journal.append(record(1, 'a'))
    // Appended while the first write and its datasync run: all wait for the next one, together.
    const rest = Array.from({ length: 50 }, (_, i) => journal.append(record(i + 2, `k${i}`)))
    await Promise.all([first, ...rest])
    expect(syncs).toHaveBeenCalledTimes(2)
    await journal.close()
  })

  it('rejects the appends of a commit whose datasync fails with E_IO, and writes the next commit over it', async () => {
    const dir = await fresh()
    const proto = await fileHandlePrototype(dir)
    const { journal } = await Journal.open(dir, ignore)
    await journal.append(record(1, 'a'))
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))
    await expect(journal.append(record(2, 'b'))).rejects.toMatchObject({ code: 'E_IO' })
    await journal.append(record(3, 'c'))
    expect((await replayJournal(dir)).last.map((r) => r.record.key)).toEqual(['a', 'c'])
    await journal.close()
  })

  it('deletes segments oldest first once none of their ops is live, never a newer one before an older', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore, 1)
    // Segment size 1: each commit after the first begins a new segment.
    const ids = []
    for (let seq = 1; seq <= 4; seq++) ids.push(await journal.append(record(seq, `k${seq}`)))
    expect(ids).toEqual([1, 2, 3, 4])
    // Segment 5 is the spare, prepared once segment 4 was half full.
    await vi.waitFor(async () => expect(await segments(dir)).toHaveLength(5))
    journal.release(2)
    journal.release(3)
    await new Promise((resolve) => setTimeout(resolve, 50))
    // Segment 1 still holds a live op: 2 and 3 stay, so that a replay can never see an older op without the newer.
    expect(await segments(dir)).toEqual([1, 2, 3, 4, 5].map(segmentName))
    journal.release(1)
    await vi.waitFor(async () => expect(await segments(dir)).toEqual([segmentName(4), segmentName(5)]))
    journal.release(4)
    await journal.close()
    expect(await segments(dir)).toEqual([])
  })

  it('keeps segments with live ops at close, for the next open, and begins a new segment after them', async () => {
    const dir = await fresh()
    const first = await Journal.open(dir, ignore)
    await first.journal.append(record(1, 'a'))
    await first.journal.close()
    const second = await Journal.open(dir, ignore)
    expect(second.replayed.last.map((r) => r.record.key)).toEqual(['a'])
    expect(await second.journal.append(record(2, 'b'))).toBe(2)
    await second.journal.close()
    expect(await segments(dir)).toEqual([segmentName(1), segmentName(2)])
  })

  it('is locked by one journal at a time (E_LOCKED), and free again after close', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore)
    await expect(Journal.open(dir, ignore)).rejects.toMatchObject({ code: 'E_LOCKED' } satisfies Partial<CacheError>)
    await journal.close()
    const again = await Journal.open(dir, ignore)
    await again.journal.close()
  })
})
