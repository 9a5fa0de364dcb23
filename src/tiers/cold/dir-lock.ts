import { randomBytes } from 'node:crypto'
import { link, readFile, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { CacheError } from '../../errors.js'
import { unlinkQuiet } from './segment-set.js'

export const LOCK_NAME = 'LOCK'

/** Exclusive use of a store directory by one open store in one process. */
export class DirLock {
  readonly #path: string
  readonly #token: string
  #held = true

  private constructor(path: string, token: string) {
    this.#path = path
    this.#token = token
  }

  /**
   * Takes the lock or rejects with E_LOCKED. The lock file appears whole or
   * not at all: it is written under a private name and hard-linked into place
   * (link fails with EEXIST like open 'wx', without a window where another
   * opener reads it empty). A lock whose pid is dead on this host is stale and
   * is taken over.
   */
  static async acquire(dir: string): Promise<DirLock> {
    const path = join(dir, LOCK_NAME)
    const token = randomBytes(8).toString('hex')
    const tmp = join(dir, `${LOCK_NAME}.${process.pid}.${token}`)
    const body = `${process.pid}\n${hostname()}\n${token}\n`
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
        if (holder !== undefined && (holder.host !== hostname() || isAlive(holder.pid))) {
          throw new CacheError('E_LOCKED', `${dir} is in use by process ${holder.pid} on ${holder.host}`)
        }
        // Stale: its process is gone (or the file is unreadable garbage).
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
    const holder = await readHolder(this.#path)
    if (holder?.token === this.#token) await unlinkQuiet(this.#path)
  }
}

interface Holder {
  pid: number
  host: string
  token: string
}

async function readHolder(path: string): Promise<Holder | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const [pid, host, token] = text.split('\n')
  const n = Number(pid)
  return Number.isInteger(n) && n > 0 && host && token ? { pid: n, host, token } : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
