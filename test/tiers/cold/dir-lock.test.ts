import { execFileSync, spawnSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ColdStore } from '../../../src/tiers/cold/index.js'
import { fileURLToPath } from 'node:url'
import { spawnScript } from '../../helpers/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url))
const spawnChild = (args: string[], env: Record<string, string> = {}) => spawnScript(CHILD, args, env)
/** Runs the child as PID 1 of a fresh pid namespace; killing the wrapper kills it with SIGKILL. */
const PID_NAMESPACE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child']

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
async function startTime(pid: number | 'self'): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string
}
const bootId = async (): Promise<string> => (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim()
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

  it("a lock naming this process with a token it does not hold is stale: a restart that got the killed holder's pid", async () => {
    await (await h.open()).close()
    await writeFile(join(h.dir, 'LOCK'), `${process.pid}\n${hostname()}\nfeedface\n`)
    const store = await h.open()
    await store.close()
  })

  it('a lock naming this process and its own start time is held by this process: refused', async () => {
    await (await h.open()).close()
    await writeFile(join(h.dir, 'LOCK'), `${process.pid}\n${hostname()}\nfeedface\n${await startTime('self')}\n${await bootId()}\n`)
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED' })
  })

  it('a lock naming a live process that started at another time is stale: its pid was reused', async () => {
    await (await h.open()).close()
    const live = process.ppid
    await writeFile(join(h.dir, 'LOCK'), `${live}\n${hostname()}\nfeedface\n${Number(await startTime(live)) + 1}\n${await bootId()}\n`)
    const store = await h.open()
    await store.close()
  })

  it('a lock written before the last boot is stale, whatever process has its pid now', async () => {
    await (await h.open()).close()
    const live = process.ppid
    await writeFile(join(h.dir, 'LOCK'), `${live}\n${hostname()}\nfeedface\n${await startTime(live)}\n00000000-0000-0000-0000-000000000000\n`)
    const store = await h.open()
    await store.close()
  })

  it('a lock naming a live process, with its start time or in the old three-line form, is refused', async () => {
    await (await h.open()).close()
    const live = process.ppid
    await writeFile(join(h.dir, 'LOCK'), `${live}\n${hostname()}\nfeedface\n${await startTime(live)}\n${await bootId()}\n`)
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining(String(live)) })
    await writeFile(join(h.dir, 'LOCK'), `${live}\n${hostname()}\nfeedface\n`)
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining(String(live)) })
  })

  it('a lock from another pid namespace stands even when its pid is dead here: the pid names some other process', async () => {
    await (await h.open()).close()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
    await writeFile(join(h.dir, 'LOCK'), `${dead}\n${hostname()}\nfeedface\n123\n${await bootId()}\npid:[1]\n`)
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED' })
  })

  it('a lock is judged by boot id before host name: the same kernel under another host name is this machine', async () => {
    await (await h.open()).close()
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
    const lock = (boot: string) => `${dead}\nsome-container\nfeedface\n123\n${boot}\n\n`
    await writeFile(join(h.dir, 'LOCK'), lock('00000000-0000-0000-0000-000000000000'))
    await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED', message: expect.stringContaining('some-container') })
    await writeFile(join(h.dir, 'LOCK'), lock(await bootId()))
    const store = await h.open()
    await store.close()
  })

  it('a holder killed with -9 as PID 1 of its pid namespace does not block the next PID 1', async () => {
    const first = spawnScript(CHILD, ['hold', h.dir], {}, PID_NAMESPACE)
    await first.waitFor(/^ready$/)
    expect((await readFile(join(h.dir, 'LOCK'), 'utf8')).split('\n')[0]).toBe('1')
    // The node process itself, as this namespace numbers it (the wrapper's only child).
    const wrapper = first.proc.pid as number
    const holder = Number((await readFile(`/proc/${wrapper}/task/${wrapper}/children`, 'utf8')).trim())
    process.kill(holder, 'SIGKILL')
    await first.exited

    const second = spawnScript(CHILD, ['hold', h.dir], {}, PID_NAMESPACE)
    try {
      expect(await Promise.race([second.waitFor(/^ready$/), second.waitFor(/^error /)])).toBe('ready')
      // And it holds the lock: this process is refused.
      await expect(h.open()).rejects.toMatchObject({ code: 'E_LOCKED' })
    } finally {
      second.proc.kill('SIGKILL')
      await second.exited
    }
  })

  it('a LOCK that is a FIFO is refused with E_IO naming it, without blocking', async () => {
    await (await h.open()).close()
    const lock = join(h.dir, 'LOCK')
    execFileSync('mkfifo', [lock])
    await expect(h.open()).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining(lock) })
  }, 5000)

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
