import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import { fileURLToPath } from 'node:url'
import { spawnScript } from '../../helpers/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url))
const spawnChild = (args: string[], env: Record<string, string> = {}) => spawnScript(CHILD, args, env)
import { bytes, harness, makeTempDir, type Harness } from './helpers.js'

let h: Harness
let cleanup: () => Promise<void>

beforeEach(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(join(tmp.dir, 'store'))
})
afterEach(() => cleanup())

describe('directory lock and open faults', () => {
  it('a second open in the same process gets E_LOCKED until the first closes', async () => {
    const first = await h.open()
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED' })
    await first.close()
    const again = await h.open()
    await again.close()
  })

  it('a second process gets E_LOCKED; the lock of a killed process does not block', async () => {
    const child = spawnChild(['hold', h.dir])
    await child.waitFor(/^ready$/)
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining(String(child.proc.pid)) })
    child.proc.kill('SIGKILL')
    await child.exited
    const store = await h.open()
    await store.putMany([{ key: 'k', value: bytes('v'), expiresAt: 0 }])
    await store.close()
  })

  it('a stale lock naming a dead pid is taken over', async () => {
    const first = await h.open()
    await first.close()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    await writeFile(join(h.dir, 'LOCK'), `${dead.stdout}\n${hostname()}\nfeedface\n`)
    const store = await h.open()
    await store.close()
  })

  it('a directory that cannot be created rejects with E_IO naming the path', async () => {
    const file = join(h.dir, '..', 'a-file')
    await writeFile(file, 'x')
    const dir = join(file, 'store')
    await expect(ColdStore.open({ dir, now: () => 0 })).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining(dir) })
  })

  it('bad options are refused with E_INVALID_OPTIONS', async () => {
    await expect(ColdStore.open({ dir: h.dir, now: () => 0, segmentBytes: 1 << 20, maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' })
    await expect(ColdStore.open({ dir: h.dir, now: () => 0, fsync: 'sometimes' as never })).rejects.toMatchObject({ code: 'E_INVALID_OPTIONS' })
  })
})
