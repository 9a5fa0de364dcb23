import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CacheError } from '../../src/errors.js'
import { Journal } from '../../src/writer/journal.js'
import { encodeRecord } from '../../src/writer/journal-record.js'
import { replayJournal, segmentName } from '../../src/writer/journal-replay.js'
import { openFilesUnder } from '../helpers/open-files.js'

const dirs: string[] = []
const fresh = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'strata-journal-segment-'))
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
const sizeOf = async (dir: string, id: number): Promise<number> => (await stat(join(dir, segmentName(id)))).size
const bytesOf = async (dir: string): Promise<number> => {
  let total = 0
  for (const name of await segments(dir)) total += (await stat(join(dir, name))).size
  return total
}
const isZero = (buf: Buffer): boolean => buf.every((b) => b === 0)

/** The prototype of fs/promises FileHandle, whose methods the journal calls. */
async function fileHandlePrototype(dir: string): Promise<{ sync(): Promise<void>; datasync(): Promise<void> }> {
  const fh = await open(join(dir, 'probe'), 'w')
  await fh.close()
  return Object.getPrototypeOf(fh)
}

describe('journal segments, preallocated', () => {
  it('prepares the first segment to its full size with zeros at open; commits overwrite it and never grow it', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore, 64 << 10)
    expect(await sizeOf(dir, 1)).toBe(64 << 10)
    expect(isZero(await readFile(join(dir, segmentName(1))))).toBe(true)
    let bytes = 0
    for (let seq = 1; seq <= 20; seq++) {
      const r = record(seq, `k${seq}`)
      bytes += r.length
      await journal.append(r)
    }
    expect(await sizeOf(dir, 1)).toBe(64 << 10)
    const after = (await readFile(join(dir, segmentName(1)))).subarray(bytes)
    expect(isZero(after)).toBe(true)
    const replayed = await replayJournal(dir)
    expect(replayed.records).toBe(20)
    expect(replayed.last.map((r) => r.record.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    await journal.close()
  })

  it('ends a segment’s replay at its zero tail, and at a torn record before the zeros, counting the records it read', async () => {
    const dir = await fresh()
    const body = Buffer.concat([record(1, 'a'), record(2, 'b'), record(3, 'c')])
    await writeFile(join(dir, segmentName(1)), Buffer.concat([body, Buffer.alloc(4096)]))
    // A commit torn in a preallocated region: its record's head and part of its body reached the disk, zeros after.
    const torn = record(5, 'e', 'x'.repeat(200))
    const two = Buffer.concat([record(4, 'd'), torn.subarray(0, 60), Buffer.alloc(4096)])
    await writeFile(join(dir, segmentName(2)), two)
    const replayed = await replayJournal(dir)
    expect(replayed.records).toBe(4)
    expect(replayed.last.map((r) => r.record.key)).toEqual(['a', 'b', 'c', 'd'])
    expect(replayed.maxSeq).toBe(4)
    expect(replayed.live).toEqual(
      new Map([
        [1, 3],
        [2, 1],
      ]),
    )
  })

  it('does not replay the records a failed commit left past the end of the shorter commit written over it', async () => {
    const dir = await fresh()
    const proto = await fileHandlePrototype(dir)
    const { journal } = await Journal.open(dir, ignore, 64 << 10)
    vi.spyOn(proto, 'datasync')
      .mockResolvedValueOnce(undefined)
      .mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))
    const first = journal.append(record(1, 'a'))
    // Appended while the first commit runs, both go in the next: its write reaches the file, its datasync fails, both reject.
    const failed = [journal.append(record(2, 'x1')), journal.append(record(3, 'x2'))]
    await first
    for (const one of failed) await expect(one).rejects.toMatchObject({ code: 'E_IO' })
    // The next commit is one record as long as x1, written where x1 was: x2 follows it in the file, and is not data.
    await journal.append(record(4, 'y1'))
    const replayed = await replayJournal(dir)
    expect(replayed.last.map((r) => r.record.key)).toEqual(['a', 'y1'])
    expect(replayed.records).toBe(2)
    await journal.close()
  })

  it('prepares the spare once the active segment is half full, and rotates into it: no segment grows', async () => {
    const dir = await fresh()
    const bytes = 4096
    const { journal } = await Journal.open(dir, ignore, bytes)
    let seq = 0
    // Records of 64 bytes: 32 fill half the segment.
    const sized = (): Buffer => record(++seq, `k${String(seq).padStart(4, '0')}`, 'v'.repeat(64 - 8 - 19 - 5))
    expect(sized().length).toBe(64)
    seq = 0
    for (let i = 0; i < 31; i++) expect(await journal.append(sized())).toBe(1)
    expect(await segments(dir)).toEqual([segmentName(1)])
    await journal.append(sized())
    await vi.waitFor(async () => {
      expect(await segments(dir)).toEqual([segmentName(1), segmentName(2)])
      expect(await sizeOf(dir, 2)).toBe(bytes)
    })
    for (let i = 32; i < 64; i++) expect(await journal.append(sized())).toBe(1)
    // The segment is full: the next commit goes into the spare, which was filled with zeros to its size.
    expect(await journal.append(sized())).toBe(2)
    expect(await sizeOf(dir, 1)).toBe(bytes)
    expect(await sizeOf(dir, 2)).toBe(bytes)
    expect((await replayJournal(dir)).records).toBe(65)
    await journal.close()
  })

  it('takes a spare not yet filled as it is: the commit grows it, and replays', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore, 4096)
    const big = (seq: number): Buffer => record(seq, `k${seq}`, 'v'.repeat(2100))
    await journal.append(record(1, 'a'))
    // The second commit passes half the segment (the spare begins); the third, queued behind it, does not fit and takes the spare at once.
    const ids = await Promise.all([journal.append(big(2)), journal.append(big(3))])
    expect(ids).toEqual([1, 2])
    // Stopped before its first slice of zeros: the file holds the record and nothing after it.
    expect(await sizeOf(dir, 2)).toBe(big(3).length)
    expect((await replayJournal(dir)).last.map((r) => r.record.seq)).toEqual([1, 2, 3])
    await journal.close()
  })

  it('reports a spare that could not be prepared (E_IO), removes it, and rotates into a plain new segment', async () => {
    const dir = await fresh()
    const proto = await fileHandlePrototype(dir)
    const reported: CacheError[] = []
    const { journal } = await Journal.open(dir, (e) => reported.push(e), 4096)
    // The spare's fsync (after its zeros) fails.
    vi.spyOn(proto, 'sync').mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }))
    await journal.append(record(1, 'a', 'v'.repeat(2100)))
    await vi.waitFor(() => expect(reported.map((e) => e.code)).toEqual(['E_IO']))
    expect(await segments(dir)).toEqual([segmentName(1)])
    expect(await journal.append(record(2, 'b', 'v'.repeat(2100)))).toBe(2)
    expect((await replayJournal(dir)).last.map((r) => r.record.key)).toEqual(['a', 'b'])
    await journal.close()
  })

  it('at close removes the spare, cuts a kept segment to its records, and leaves no file open', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore, 4096)
    const first = record(1, 'a', 'v'.repeat(2100))
    await journal.append(first)
    await vi.waitFor(async () => expect(await segments(dir)).toEqual([segmentName(1), segmentName(2)]))
    expect(await openFilesUnder(dir)).not.toEqual([])
    await journal.close()
    expect(await segments(dir)).toEqual([segmentName(1)])
    expect(await sizeOf(dir, 1)).toBe(first.length)
    expect(await openFilesUnder(dir)).toEqual([])
    // Nothing live: the next close deletes every segment.
    const again = await Journal.open(dir, ignore, 4096)
    again.journal.release(1)
    await again.journal.close()
    expect(await segments(dir)).toEqual([])
    expect(await openFilesUnder(dir)).toEqual([])
  })

  it('at close, a spare that cannot be removed fails the close, and leaves no file open', async () => {
    const dir = await fresh()
    const { journal } = await Journal.open(dir, ignore, 4096)
    await journal.append(record(1, 'a', 'v'.repeat(2100)))
    await vi.waitFor(async () => expect(await segments(dir)).toEqual([segmentName(1), segmentName(2)]))
    // The spare's name taken by a directory: removing it fails (EISDIR), as a failing disk would.
    await rename(join(dir, segmentName(2)), join(dir, 'moved'))
    await mkdir(join(dir, segmentName(2)))
    await expect(journal.close()).rejects.toThrow(segmentName(2))
    expect(await openFilesUnder(dir)).toEqual([])
  })

  it('deletes at open a spare a previous run left half prepared, once the segments before it are written', async () => {
    const dir = await fresh()
    // As a kill leaves it: segment 1 holds records, segment 2 is a spare zeroed part of the way.
    await writeFile(join(dir, segmentName(1)), Buffer.concat([record(1, 'a'), record(2, 'b'), Buffer.alloc(1000)]))
    await writeFile(join(dir, segmentName(2)), Buffer.alloc(700))
    const { journal, replayed } = await Journal.open(dir, ignore, 4096)
    expect(replayed.last.map((r) => r.record.key)).toEqual(['a', 'b'])
    expect(replayed.live).toEqual(
      new Map([
        [1, 2],
        [2, 0],
      ]),
    )
    expect(await segments(dir)).toEqual([1, 2, 3].map(segmentName))
    journal.release(1)
    journal.release(1)
    await vi.waitFor(async () => expect(await segments(dir)).toEqual([segmentName(3)]))
    await journal.close()
    expect(await segments(dir)).toEqual([])
  })

  it('deletes at open a leftover spare with nothing before it', async () => {
    const dir = await fresh()
    await writeFile(join(dir, segmentName(4)), Buffer.alloc(2048))
    const { journal, replayed } = await Journal.open(dir, ignore, 4096)
    expect(replayed.records).toBe(0)
    await vi.waitFor(async () => expect(await segments(dir)).toEqual([segmentName(5)]))
    await journal.close()
  })

  it('keeps the journal’s disk bounded: the live segments, the active one and one spare', async () => {
    const dir = await fresh()
    const bytes = 4096
    const { journal } = await Journal.open(dir, ignore, bytes)
    let most = 0
    for (let seq = 1; seq <= 400; seq++) {
      const id = await journal.append(record(seq, `k${seq}`, 'v'.repeat(100)))
      // Written to the source at once: only the active segment and the spare need stay.
      journal.release(id)
      if (seq % 20 === 0) most = Math.max(most, (await segments(dir)).length)
    }
    await vi.waitFor(async () => expect((await segments(dir)).length).toBeLessThanOrEqual(2))
    expect(await bytesOf(dir)).toBeLessThanOrEqual(2 * bytes)
    // A removal runs behind the appends: at most one written segment waits for it.
    expect(most).toBeLessThanOrEqual(3)
    await journal.close()
    expect(await segments(dir)).toEqual([])
  })
})
