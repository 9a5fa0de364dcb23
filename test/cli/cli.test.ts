import { execFile } from 'node:child_process'
import { crc32c } from '@node-rs/crc32'
import { copyFile, mkdir, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { describeFsError } from '../../src/cli/cli-error.js'
import type { StoreReport } from '../../src/cli/store-scan.js'
import { bytes, harness, makeTempDir, segmentFiles, text } from '../tiers/cold/helpers.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** The CLI from source, as a user runs it: a child process, its exit code and output. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: root, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

async function inspectJson(dir: string, ...extra: string[]): Promise<StoreReport> {
  const r = await cli('inspect', dir, '--json', ...extra)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as StoreReport
}

/** Bytes of one record with an ASCII key and value (32-byte header). */
const rec = (key: string, value: string): number => 32 + key.length + value.length

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

async function tempDir(): Promise<string> {
  const { dir, cleanup } = await makeTempDir()
  cleanups.push(cleanup)
  return dir
}

/** 10 puts, 3 overwrites, 2 deletes, in one segment, closed. */
async function knownStore(): Promise<string> {
  const dir = await tempDir()
  const store = await harness(dir).open()
  await store.putMany(Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: bytes(`value-${i}`), expiresAt: 0 })))
  await store.putMany([0, 1, 2].map((i) => ({ key: `k${i}`, value: bytes(`new-${i}`), expiresAt: 0 })))
  await store.delete('k3')
  await store.delete('k4')
  await store.close()
  return dir
}

/** Many small segments: `rounds` overwrites of `keys` keys with 100-byte values, then two deletes. */
async function churnedStore(keys = 40, rounds = 8): Promise<string> {
  const dir = await tempDir()
  const store = await harness(dir, { segmentBytes: 4096, maxBytes: 1 << 24 }).open()
  for (let r = 0; r < rounds; r++) {
    await store.putMany(Array.from({ length: keys }, (_, i) => ({ key: `key-${i}`, value: bytes(`${r}`.padEnd(100, '.')), expiresAt: 0 })))
  }
  await store.delete('key-0')
  await store.delete('key-1')
  await store.close()
  return dir
}

describe('strata-cache CLI', () => {
  it('--help lists inspect, verify and compact; --version prints the version', async () => {
    const [help, version] = await Promise.all([cli('--help'), cli('--version')])
    expect(help.code).toBe(0)
    for (const command of ['inspect', 'verify', 'compact']) expect(help.stdout).toMatch(new RegExp(`^\\s+${command} `, 'm'))
    expect(version.code).toBe(0)
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('exits 2 on usage errors and on a DIR that is missing, a file, or not a store', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'a-file'), 'x')
    const [noArg, unknown, missing, file, empty] = await Promise.all([
      cli('verify'),
      cli('frobnicate', dir),
      cli('verify', join(dir, 'nope')),
      cli('inspect', join(dir, 'a-file')),
      cli('compact', dir),
    ])
    for (const r of [noArg, unknown, missing, file, empty]) expect(r.code).toBe(2)
    expect(missing.stderr).toContain('no such file or directory')
    expect(file.stderr).toContain('not a directory')
    expect(empty.stderr).toContain('not a strata-cache store')
    // compact must not have created a store there.
    expect(await segmentFiles(dir)).toEqual([])
  })

  describe('inspect', () => {
    it('counts live and dead bytes, entries and tombstones of a known store exactly', async () => {
      const dir = await knownStore()
      const report = await inspectJson(dir)
      const size = 10 * rec('k0', 'value-0') + 3 * rec('k0', 'new-0') + 2 * rec('k3', '')
      const live = 3 * rec('k0', 'new-0') + 5 * rec('k5', 'value-5')
      expect(report.segments).toHaveLength(1)
      expect(report.totals).toMatchObject({
        segments: 1,
        size,
        live,
        dead: size - live,
        entries: 8,
        records: 15,
        tombstones: 2,
        corrupt: 0,
      })
      expect(report.segments[0]).toMatchObject({ file: 'seg-00000001.log', size, live, entries: 8, tombstones: 2, hint: 'ok' })

      const table = await cli('inspect', dir)
      expect(table.code).toBe(0)
      const header = table.stdout.split('\n').find((l) => l.startsWith('file'))
      expect(header?.split(/\s+/)).toEqual(['file', 'size', 'live', 'dead', 'dead%', 'entries', 'tombstones', 'corrupt', 'hint'])
      const total = table.stdout.split('\n').find((l) => l.startsWith('total'))
      expect(total?.split(/\s+/).slice(0, 8)).toEqual(['total', `${size}`, `${live}`, `${size - live}`, expect.stringMatching(/%$/), '8', '2', '0'])
    })

    it('puts live bytes where the newest record of each key is, across segments, and judges expiry by --now', async () => {
      const dir = await churnedStore(40, 4)
      const h = harness(dir, { segmentBytes: 4096, maxBytes: 1 << 24 })
      const store = await h.open()
      await store.putMany([{ key: 'ttl', value: bytes('soon gone'), expiresAt: h.clock.t + 1000 }])
      await store.close()
      const before = await inspectJson(dir, '--now', String(h.clock.t))
      const after = await inspectJson(dir, '--now', String(h.clock.t + 1000))
      expect(before.segments.length).toBeGreaterThan(3)
      expect(before.totals.entries).toBe(38 + 1)
      expect(after.totals.entries).toBe(38)
      expect(before.totals.live - after.totals.live).toBe(rec('ttl', 'soon gone'))
      // key-2 .. key-9 and key-10 .. key-39 hold the last round's value; key-0 and key-1 are deleted.
      const value = '3'.padEnd(100, '.')
      expect(after.totals.live).toBe(8 * rec('key-2', value) + 30 * rec('key-10', value))
      // The first segments hold only overwritten rounds.
      expect(before.segments[0]).toMatchObject({ live: 0, entries: 0 })
    })

    it('honours a clear barrier: records older than it are dead even if their file is still there', async () => {
      const dir = await tempDir()
      const h = harness(dir)
      const store = await h.open()
      await store.putMany([
        { key: 'a', value: bytes('1'), expiresAt: 0 },
        { key: 'b', value: bytes('2'), expiresAt: 0 },
      ])
      await store.sync()
      // Keep the pre-clear segment as a crash in the middle of clear() would.
      await copyFile(join(dir, 'seg-00000001.log'), join(dir, 'saved'))
      await store.clear()
      await store.putMany([{ key: 'c', value: bytes('3'), expiresAt: 0 }])
      await store.close()
      await copyFile(join(dir, 'saved'), join(dir, 'seg-00000001.log'))

      const report = await inspectJson(dir)
      expect(report.totals).toMatchObject({ entries: 1, live: rec('c', '3'), barriers: 1 })
      expect(report.segments[0]).toMatchObject({ file: 'seg-00000001.log', live: 0, records: 2 })
      // The engine agrees.
      const reopened = await h.open()
      expect([...reopened.keys()]).toEqual(['c'])
      await reopened.close()
    })
  })

  describe('tags', () => {
    /** Tagged entries over two segments: one overwritten untagged, one retagged, one deleted. */
    async function taggedStore(): Promise<string> {
      const dir = await tempDir()
      const store = await harness(dir, { segmentBytes: 4096, maxBytes: 1 << 24 }).open()
      await store.putMany(
        Array.from({ length: 40 }, (_, i) => ({
          key: `key-${i}`,
          value: bytes(`${i}`.padEnd(100, '.')),
          expiresAt: 0,
          tags: i % 2 === 0 ? ['even', 'all'] : ['all'],
        })),
      )
      await store.putMany([
        { key: 'key-0', value: bytes('untagged now'), expiresAt: 0 },
        { key: 'key-1', value: bytes('retagged'), expiresAt: 0, tags: ['odd one, "quoted"'] },
      ])
      await store.delete('key-2')
      await store.close()
      return dir
    }

    it('inspect counts the live entries per tag, and which are tagged', async () => {
      const dir = await taggedStore()
      const report = await inspectJson(dir)
      expect(report.segments.length).toBeGreaterThan(1)
      expect(report.totals).toMatchObject({ entries: 39, tagged: 38 })
      expect(report.tags).toEqual({ all: 37, even: 18, 'odd one, "quoted"': 1 })
      expect(report.segments.reduce((n, s) => n + s.tagged, 0)).toBe(38)
      const table = await cli('inspect', dir)
      expect(table.code).toBe(0)
      expect(table.stdout).toContain('tags: 38 of 39 live entries tagged; "all" 37, "even" 18, "odd one, \\"quoted\\"" 1')
      const untagged = await inspectJson(await knownStore())
      expect(untagged.tags).toEqual({})
      expect((await cli('inspect', await knownStore())).stdout).toContain('tags: none on live entries')
    })

    it('verify checks the tags in hints against the records', async () => {
      const dir = await taggedStore()
      expect((await cli('verify', dir)).code).toBe(0)
      // A hint that names other tags for a record (same length, valid CRC) is a mismatch.
      const hint = join(dir, 'seg-00000001.hint')
      const buf = await readFile(hint)
      const at = buf.indexOf('even')
      expect(at).toBeGreaterThan(0)
      buf.write('EVEN', at)
      buf.writeUInt32LE(crc32c(buf.subarray(0, buf.length - 4)), buf.length - 4)
      await writeFile(hint, buf)
      const r = await cli('verify', dir)
      expect(r.code).toBe(1)
      expect(r.stdout).toContain('seg-00000001.log: hint mismatch')
    })

    it('compact keeps the tags of every live entry', async () => {
      const dir = await taggedStore()
      const before = await inspectJson(dir)
      const r = await cli('compact', dir)
      expect(r.code, r.stderr).toBe(0)
      const after = await inspectJson(dir)
      expect(after.totals.size).toBeLessThan(before.totals.size)
      expect(after.tags).toEqual(before.tags)
      expect(after.totals.tagged).toBe(38)
      expect((await cli('verify', dir)).code).toBe(0)
    })
  })

  describe('verify', () => {
    it('does not hang on a LOCK that is a FIFO', async () => {
      const dir = await churnedStore()
      await new Promise<void>((resolve, reject) => execFile('mkfifo', [join(dir, 'LOCK')], (error) => (error ? reject(error) : resolve())))
      const r = await cli('inspect', dir)
      expect(r.code).toBe(0)
    })

    it('exits 0 on a clean store', async () => {
      const r = await cli('verify', await churnedStore())
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^OK: \d+ segments, 322 records/m)
    })

    it('exits 1 and names the segment and offset of a byte flipped mid-segment', async () => {
      const dir = await churnedStore()
      const file = join(dir, 'seg-00000002.log')
      const { size } = await stat(file)
      const fh = await open(file, 'r+')
      const at = Math.floor(size / 2)
      const [b] = (await fh.read(Buffer.alloc(1), 0, 1, at)).buffer
      await fh.write(Buffer.from([b ^ 0xff]), 0, 1, at)
      await fh.close()

      const r = await cli('verify', dir)
      expect(r.code).toBe(1)
      const line = r.stdout.split('\n').find((l) => l.startsWith('seg-00000002.log: corrupt at offset'))
      expect(line).toBeDefined()
      const offset = Number(/offset (\d+)/.exec(line!)![1])
      expect(offset).toBeLessThanOrEqual(at)
      expect(r.stdout).not.toContain('torn tail')
      expect(r.stdout).toMatch(/^CORRUPT: /m)
      const json = JSON.parse((await cli('verify', dir, '--json')).stdout) as { ok: boolean; findings: { file: string; kind: string }[] }
      expect(json.ok).toBe(false)
      expect(json.findings).toContainEqual(expect.objectContaining({ file: 'seg-00000002.log', kind: 'corrupt' }))
    })

    it('exits 1 and says "torn tail" for a truncated newest segment', async () => {
      const dir = await churnedStore()
      const segs = await segmentFiles(dir)
      const newest = join(dir, segs[segs.length - 1])
      await truncate(newest, (await stat(newest)).size - 5)

      const r = await cli('verify', dir)
      expect(r.code).toBe(1)
      expect(r.stdout).toContain(`${segs[segs.length - 1]}: torn tail at offset`)
      expect(r.stdout).toContain('torn tail on the newest segment')
    })

    it('exits 2 when a segment cannot be read', async () => {
      const dir = await churnedStore()
      // A read error root gets too: the segment's name now holds a directory.
      await rm(join(dir, 'seg-00000001.log'))
      await mkdir(join(dir, 'seg-00000001.log'))
      const r = await cli('verify', dir)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('seg-00000001.log')
    })

    it('says "permission denied" for an unreadable path', () => {
      const error = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
      expect(describeFsError(error, '/store/seg-00000001.log')).toMatchObject({
        message: '/store/seg-00000001.log: permission denied',
        exitCode: 2,
      })
    })
  })

  describe('compact', () => {
    it('shrinks a store with many overwrites, which still reads back every live value', async () => {
      const dir = await churnedStore(40, 8)
      const before = await inspectJson(dir)
      const r = await cli('compact', dir)
      expect(r.code, r.stderr).toBe(0)
      const [, was] = /^before: (\d+) bytes on disk/m.exec(r.stdout)!
      const [, now] = /^after: +(\d+) bytes on disk/m.exec(r.stdout)!
      expect(Number(now)).toBeLessThan(Number(was) / 3)

      const after = await inspectJson(dir)
      expect(after.totals.live).toBe(before.totals.live)
      expect(after.totals.entries).toBe(38)
      expect(after.totals.size).toBeLessThan(before.totals.size / 3)
      expect((await cli('verify', dir)).code).toBe(0)

      const store = await harness(dir, { segmentBytes: 4096, maxBytes: 1 << 24 }).open()
      for (let i = 0; i < 40; i++) {
        const hit = await store.get(`key-${i}`)
        expect(text(hit?.value)).toBe(i < 2 ? undefined : '7'.padEnd(100, '.'))
      }
      await store.close()
    })

    it('rewrites the newest segment too, leaving only live bytes', async () => {
      const dir = await knownStore()
      const r = await cli('compact', dir)
      expect(r.code, r.stderr).toBe(0)
      const after = await inspectJson(dir)
      const live = 3 * rec('k0', 'new-0') + 5 * rec('k5', 'value-5')
      expect(after.totals).toMatchObject({ live, size: live, entries: 8, tombstones: 0 })
      const store = await harness(dir).open()
      expect([...store.keys()].sort()).toEqual(['k0', 'k1', 'k2', 'k5', 'k6', 'k7', 'k8', 'k9'])
      expect(text((await store.get('k1'))?.value)).toBe('new-1')
      await store.close()
    })

    it('exits 2 with E_LOCKED while a live process has the store open, and leaves it alone', async () => {
      const dir = await churnedStore()
      const files = await segmentFiles(dir)
      const store = await harness(dir, { segmentBytes: 4096, maxBytes: 1 << 24 }).open()
      try {
        const r = await cli('compact', dir)
        expect(r.code).toBe(2)
        expect(r.stderr).toContain('E_LOCKED')
        expect(r.stderr).toContain(`process ${process.pid}`)
      } finally {
        await store.close()
      }
      expect((await segmentFiles(dir)).slice(0, files.length)).toEqual(files)
    })
  })
})
