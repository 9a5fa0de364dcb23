import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { link, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { CacheError } from '../../errors.js'
import { ownIdentity, startTimeOf, type ProcessIdentity } from './process-identity.js'
import { openRegularFile } from './regular-file.js'
import { unlinkQuiet } from '../../files/unlink-quiet.js'

export const LOCK_NAME = 'LOCK'

/** A lock file is a few short lines; anything longer is not one. */
const MAX_LOCK_BYTES = 512

/**
 * Tokens of the locks this process (this thread's copy of the module) holds.
 * A lock naming this pid with another token was left by an earlier process
 * that had the same pid: a restart after kill -9 in a container (PID 1), or
 * any pid reuse.
 */
const heldTokens = new Set<string>()

/** Exclusive use of a store directory by one open store in one process. */
export class DirLock {
  readonly #path: string
  readonly #token: string
  #held = true

  private constructor(path: string, token: string) {
    this.#path = path
    this.#token = token
    heldTokens.add(token)
  }

  /**
   * Takes the lock or rejects with E_LOCKED. The lock file appears whole or
   * not at all: it is written under a private name and hard-linked into place
   * (link fails with EEXIST like open 'wx', without a window where another
   * opener reads it empty). It names the holder by pid, host, token and, on
   * Linux, start time, boot id and pid namespace; a lock whose holder is gone
   * is stale and is taken over (see `isStale`). A LOCK that is not a regular file (a FIFO,
   * a directory) is refused with E_IO, without waiting on it.
   */
  static async acquire(dir: string): Promise<DirLock> {
    const path = join(dir, LOCK_NAME)
    const own = await ownIdentity()
    const token = randomBytes(8).toString('hex')
    const tmp = join(dir, `${LOCK_NAME}.${process.pid}.${token}`)
    // Readers of the first three lines only (earlier versions) still read it.
    const body = `${process.pid}\n${hostname()}\n${token}\n${own.start ?? ''}\n${own.boot ?? ''}\n${own.pidNamespace ?? ''}\n`
    await writeFile(tmp, body, { flag: 'wx' })
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(tmp, path)
          return new DirLock(path, token)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        }
        const holder = await readHolder(path)
        if (holder !== undefined && !(await isStale(holder, own))) {
          throw new CacheError('E_LOCKED', `${dir} is in use by process ${holder.pid} on ${holder.host}`)
        }
        // Stale (or unreadable garbage).
        await unlinkQuiet(path)
      }
      throw new CacheError('E_LOCKED', `${dir}: could not take the lock`)
    } finally {
      await unlinkQuiet(tmp)
    }
  }

  async release(): Promise<void> {
    if (!this.#held) return
    this.#held = false
    heldTokens.delete(this.#token)
    // Whatever now has the name (replaced by hand, say) is not ours to remove.
    const holder = await readHolder(this.#path).catch(() => undefined)
    if (holder?.token === this.#token) await unlinkQuiet(this.#path)
  }
}

interface Holder {
  pid: number
  host: string
  token: string
  /** Absent in locks of earlier versions, and where /proc cannot tell. */
  start: string | undefined
  boot: string | undefined
  pidNamespace: string | undefined
}

async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string
  try {
    const fh = await openRegularFile(path, constants.O_RDONLY)
    try {
      const buf = Buffer.alloc(MAX_LOCK_BYTES)
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
      text = buf.toString('utf8', 0, bytesRead)
    } finally {
      await fh.close()
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const [pid, host, token, start, boot, pidNamespace] = text.split('\n')
  const n = Number(pid)
  if (!(Number.isInteger(n) && n > 0 && host && token)) return undefined
  return { pid: n, host, token, start: start || undefined, boot: boot || undefined, pidNamespace: pidNamespace || undefined }
}

/**
 * Whether the lock's holder is gone. The holder runs on this machine when it
 * booted the same kernel (or, where boot ids are unknown, has this host
 * name); on another machine it cannot be checked and its lock stands, but a
 * lock of this host name from an earlier boot is stale. On this machine:
 *
 * - naming this pid, it is stale unless this process holds its token or it
 *   has this process's start time (a store of another thread, or one never
 *   closed): a restart that got the pid of a holder killed with -9 (PID 1 in a
 *   container, or any pid reuse) takes the lock over;
 * - from another pid namespace, its pid names some other process here: it
 *   stands;
 * - otherwise it is stale when its pid is dead, or alive but started at
 *   another time than the holder did (the pid was reused).
 */
async function isStale(holder: Holder, own: ProcessIdentity): Promise<boolean> {
  const bootsKnown = holder.boot !== undefined && own.boot !== undefined
  if (bootsKnown ? holder.boot !== own.boot : holder.host !== hostname()) return bootsKnown && holder.host === hostname()
  if (holder.pid === process.pid) {
    if (heldTokens.has(holder.token)) return false
    return holder.start === undefined || holder.start !== own.start
  }
  if (holder.pidNamespace !== undefined && own.pidNamespace !== undefined && holder.pidNamespace !== own.pidNamespace) return false
  if (!isAlive(holder.pid)) return true
  if (holder.start === undefined || own.start === undefined) return false
  const start = await startTimeOf(holder.pid)
  return start !== undefined && start !== holder.start
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
