import { execFileSync } from 'node:child_process'
import { mkdir, readFile, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ColdStore } from '../../../src/tiers/cold/index.js'
import { openFilesUnder } from '../../helpers/open-files.js'
import { bytes, harness, hintFiles, makeTempDir, segmentFiles, text, type Harness } from './helpers.js'

let h: Harness
let cleanup: () => Promise<void>
let store: ColdStore | undefined

const N = 400
const valueAt = (i: number): string => `value-${i}-`.padEnd(40 + (i % 30), 'x')

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(tmp.dir, { segmentBytes: 8192 })
  store = await h.open()
  for (let i = 0; i < N; i += 50) {
    await store.putMany(Array.from({ length: 50 }, (_, j) => ({ key: `k${i + j}`, value: bytes(valueAt(i + j)), expiresAt: 0 })))
  }
  await store.close()
  store = undefined
})
afterEach(async () => {
  await store?.close()
  store = undefined
  await cleanup()
})

/** Every key reads back its own value or nothing; returns the keys read as nothing. */
async function missingKeys(s: ColdStore): Promise<string[]> {
  const keys = Array.from({ length: N }, (_, i) => `k${i}`)
  const got = await s.getMany(keys)
  const missing: string[] = []
  got.forEach((g, i) => {
    if (g === undefined) missing.push(keys[i])
    else expect(text(g.value)).toBe(valueAt(i))
  })
  return missing
}

async function flipMiddleOf(file: string): Promise<void> {
  const buf = await readFile(file)
  buf[buf.length >> 1] ^= 0x5a
  await writeFile(file, buf)
}

describe('recovery', () => {
  it('a flipped byte mid-segment: that record is skipped at open, E_CORRUPT reported, the rest served', async () => {
    const segs = await segmentFiles(h.dir)
    expect(segs.length).toBeGreaterThan(3)
    for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
    await flipMiddleOf(join(h.dir, segs[1]))
    store = await h.open()
    expect(h.errors.map((e) => e.code)).toEqual(['E_CORRUPT'])
    expect(h.errors[0].message).toContain(segs[1])
    expect(await missingKeys(store)).toHaveLength(1)
    expect(store.stats().corruptRecords).toBe(1)
  })

  it('a flipped byte under a valid hint is caught by the read-time CRC check', async () => {
    const segs = await segmentFiles(h.dir)
    expect(await hintFiles(h.dir)).toHaveLength(segs.length)
    await flipMiddleOf(join(h.dir, segs[2]))
    store = await h.open()
    expect(h.errors).toEqual([])
    expect(await missingKeys(store)).toHaveLength(1)
    expect(h.errors.map((e) => e.code)).toEqual(['E_CORRUPT'])
    expect(await missingKeys(store)).toHaveLength(1) // reported once; now a miss
    expect(h.errors).toHaveLength(1)
  })

  it('a record found corrupt at read time is tombstoned: no later open brings back an older value of its key', async () => {
    // Every key gets a second, newer value: the first stays in older segments.
    store = await h.open()
    for (let i = 0; i < N; i += 50) {
      await store.putMany(Array.from({ length: 50 }, (_, j) => ({ key: `k${i + j}`, value: bytes(`new-${valueAt(i + j)}`), expiresAt: 0 })))
    }
    await store.close()
    const segs = await segmentFiles(h.dir)
    await flipMiddleOf(join(h.dir, segs[segs.length - 2])) // a newer value, under a valid hint
    store = await h.open()
    const keys = Array.from({ length: N }, (_, i) => `k${i}`)
    const first = await store.getMany(keys)
    const lost = keys.filter((_, i) => first[i] === undefined)
    expect(lost).toHaveLength(1)
    expect(h.errors.map((e) => e.code)).toEqual(['E_CORRUPT'])
    await store.close()
    // Open by scan: the corrupt record is skipped, and without the tombstone the old value would win.
    for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
    store = await h.open()
    expect(await store.get(lost[0])).toBeUndefined()
    const again = await store.getMany(keys)
    again.forEach((got, i) => {
      if (keys[i] !== lost[0]) expect(text(got?.value)).toBe(`new-${valueAt(i)}`)
    })
  })

  it('a truncated tail: the torn record is reported and cut off, everything before it served', async () => {
    const segs = await segmentFiles(h.dir)
    const last = join(h.dir, segs[segs.length - 1])
    await truncate(last, (await stat(last)).size - 7)
    store = await h.open()
    expect(h.errors.map((e) => e.code)).toEqual(['E_CORRUPT'])
    expect(h.errors[0].message).toContain('torn tail')
    expect(await missingKeys(store)).toEqual([`k${N - 1}`])
    await store.putMany([{ key: 'after', value: bytes('tail'), expiresAt: 0 }])
    await store.close()
    store = await h.open()
    expect(h.errors).toHaveLength(1) // the tail was cut once; no new report
    expect(text((await store.get('after'))?.value)).toBe('tail')
  })

  it('opens correctly with every hint deleted, and writes the hints again', async () => {
    const hints = await hintFiles(h.dir)
    expect(hints.length).toBeGreaterThan(3)
    for (const hint of hints) await unlink(join(h.dir, hint))
    store = await h.open()
    expect(await missingKeys(store)).toEqual([])
    await store.close()
    expect(await hintFiles(h.dir)).toEqual(hints)
    store = await h.open()
    expect(await missingKeys(store)).toEqual([])
    expect(h.errors).toEqual([])
  })

  it('ignores a hint that is corrupt or describes another size of its segment', async () => {
    const hints = await hintFiles(h.dir)
    await flipMiddleOf(join(h.dir, hints[0]))
    await writeFile(join(h.dir, hints[1]), await readFile(join(h.dir, hints[2])))
    store = await h.open()
    expect(await missingKeys(store)).toEqual([])
    expect(h.errors).toEqual([])
  })

  it('names of segments that are not segment files are reported E_IO and skipped; the rest opens, and new segments are numbered past them', async () => {
    const segs = await segmentFiles(h.dir)
    const next = Number(/\d+/.exec(segs[segs.length - 1])![0]) + 1
    const odd = [0, 1, 2, 3].map((i) => join(h.dir, `seg-${String(next + i).padStart(8, '0')}.log`))
    await mkdir(odd[0])
    await symlink(odd[1], odd[1])
    await symlink(join(h.dir, 'nowhere'), odd[2])
    execFileSync('mkfifo', [odd[3]])
    store = await h.open()
    expect(h.errors.map((e) => e.code)).toEqual(['E_IO', 'E_IO', 'E_IO', 'E_IO'])
    odd.forEach((path, i) => expect(h.errors[i].message).toContain(path))
    expect(await missingKeys(store)).toEqual([])
    // Enough to fill the resumed segment and roll over to new ones.
    await store.putMany(Array.from({ length: 100 }, (_, i) => ({ key: `new${i}`, value: bytes(valueAt(i)), expiresAt: 0 })))
    await store.close()
    expect(await segmentFiles(h.dir)).toContain(`seg-${String(next + 4).padStart(8, '0')}.log`)
    store = await h.open()
    expect(await missingKeys(store)).toEqual([])
    expect(text((await store.get('new99'))?.value)).toBe(valueAt(99))
    expect(h.errors).toHaveLength(8)
  }, 10_000)

  it('hint names that are not regular files are reported E_IO and left alone; their segments are scanned', async () => {
    const hints = (await hintFiles(h.dir)).map((name) => join(h.dir, name))
    await unlink(hints[0])
    execFileSync('mkfifo', [hints[0]])
    await unlink(hints[1])
    await mkdir(hints[1])
    store = await h.open()
    expect(h.errors.map((e) => e.code)).toEqual(['E_IO', 'E_IO'])
    for (const path of hints.slice(0, 2)) expect(h.errors.some((e) => e.message.includes(path))).toBe(true)
    expect(await missingKeys(store)).toEqual([])
  }, 10_000)

  it('a segment whose hint name is a directory: a clear cannot remove that hint, and closes the segment all the same', async () => {
    const segment = join(h.dir, (await segmentFiles(h.dir))[0])
    const hint = join(h.dir, (await hintFiles(h.dir))[0])
    await unlink(hint)
    await mkdir(hint)
    store = await h.open()
    expect(await openFilesUnder(segment)).toHaveLength(1)
    await expect(store.clear()).rejects.toThrow(hint)
    // Out of the store's set, its file is no longer the store's to close: the failed drop must have closed it.
    expect(await openFilesUnder(segment)).toEqual([])
    await store.close()
    store = undefined
    expect(await openFilesUnder(h.dir)).toEqual([])
  }, 10_000)

  it('leftover hint names are removed whatever they are, and one that cannot be is reported E_IO', async () => {
    const hint = (await hintFiles(h.dir))[0]
    const directory = join(h.dir, 'seg-00000999.hint')
    // The missing hint is written again through its temporary name, which a FIFO there would block.
    await unlink(join(h.dir, hint))
    execFileSync('mkfifo', [join(h.dir, `${hint}.tmp`)])
    await mkdir(directory)
    store = await h.open()
    expect(h.errors.map((e) => e.code)).toEqual(['E_IO'])
    expect(h.errors[0].message).toContain(directory)
    await store.close()
    store = undefined
    expect(await hintFiles(h.dir)).toEqual(expect.arrayContaining([hint, 'seg-00000999.hint']))
  }, 10_000)

  it('deletes and overwrites replay by sequence number across segments', async () => {
    store = await h.open()
    await store.delete('k3')
    await store.putMany([{ key: 'k5', value: bytes('five'), expiresAt: 0 }])
    await store.putMany([{ key: 'k3', value: bytes(valueAt(3)), expiresAt: 0 }])
    await store.delete('k9')
    await store.close()
    for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
    store = await h.open()
    expect(store.has('k9')).toBe(false)
    expect(text((await store.get('k5'))?.value)).toBe('five')
    expect(text((await store.get('k3'))?.value)).toBe(valueAt(3))
    expect(store.stats().entries).toBe(N - 1)
  })
})

describe('recovery never lets an older record stand in for a lost one', () => {
  /** Rewrites k0..k9 with new values into the newest segments, then closes: their older records stay in the first segment. */
  async function overwriteFirstKeys(): Promise<void> {
    store = await h.open()
    await store.putMany(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: bytes(`new-${i}`), expiresAt: 0 })))
    await store.close()
    store = undefined
  }

  it('a segment cut short at a record boundary: the keys its hint lists and it lost read as missing, reported, and stay missing', async () => {
    await overwriteFirstKeys()
    const segs = await segmentFiles(h.dir)
    const newest = join(h.dir, segs[segs.length - 1])
    await truncate(newest, 0)
    store = await h.open()
    expect(h.errors.filter((e) => e.code === 'E_CORRUPT').length).toBeGreaterThanOrEqual(10)
    const got = await store.getMany(Array.from({ length: 10 }, (_, i) => `k${i}`))
    expect(got.map((g) => (g === undefined ? undefined : text(g.value)))).toEqual(Array(10).fill(undefined))
    await store.close()
    // The hint is rewritten from what is there now; the tombstones keep the old values out.
    store = await h.open()
    expect(await store.get('k3')).toBeUndefined()
  })

  it('a damaged record found by scan hides the older records of the key its header names', async () => {
    await overwriteFirstKeys()
    const segs = await segmentFiles(h.dir)
    const newest = join(h.dir, segs[segs.length - 1])
    await unlink(newest.replace(/\.log$/, '.hint'))
    const buf = await readFile(newest)
    const at = buf.indexOf(Buffer.from('new-4'))
    buf[at] ^= 0xff // inside k4's value: its header still names it
    await writeFile(newest, buf)
    store = await h.open()
    expect(h.errors.map((e) => e.code)).toContain('E_CORRUPT')
    expect(await store.get('k4')).toBeUndefined()
    expect(text((await store.get('k5'))?.value)).toBe('new-5')
  })
})
