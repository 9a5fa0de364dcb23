import { execFileSync } from 'node:child_process'
import { mkdir, readdir, symlink, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type CacheEvent, createCache } from '../../../src/index.js'
import { tempDirs } from '../../helpers/temp-dirs.js'

const tempDir = tempDirs('strata-cache-odd-')

const options = (dir: string) => ({ hot: { maxEntries: 2 }, cold: { dir, segmentBytes: 64 * 1024, maxBytes: 16 << 20 } })
const segmentName = (id: number, ext: string): string => `seg-${String(id).padStart(8, '0')}.${ext}`

describe("a cold directory holding odd files under the store's names", () => {
  it('reports each as an error event naming it, opens, and serves the entries of the real segments', async () => {
    const dir = await tempDir()
    const first = createCache<string>(options(dir))
    for (let i = 0; i < 50; i++) await first.set(`k${i}`, `value ${i}`)
    await first.close()

    const names = await readdir(dir)
    const last = Math.max(...names.filter((n) => n.endsWith('.log')).map((n) => Number(/\d+/.exec(n)![0])))
    const odd = {
      directory: join(dir, segmentName(last + 1, 'log')),
      loop: join(dir, segmentName(last + 2, 'log')),
      dangling: join(dir, segmentName(last + 3, 'log')),
      fifoHint: join(dir, segmentName(last, 'hint')),
    }
    await mkdir(odd.directory)
    await symlink(odd.loop, odd.loop)
    await symlink(join(dir, 'nowhere'), odd.dangling)
    await unlink(odd.fifoHint).catch(() => undefined)
    execFileSync('mkfifo', [odd.fifoHint])

    const cache = createCache<string>(options(dir))
    const events: CacheEvent[] = []
    cache.events$.subscribe((event) => events.push(event))
    await cache.ready
    const errors = events.flatMap((event) => (event.type === 'error' ? [event.error] : []))
    expect(errors.map((error) => error.code)).toEqual(['E_IO', 'E_IO', 'E_IO', 'E_IO'])
    for (const path of Object.values(odd)) expect(errors.some((error) => error.message.includes(path))).toBe(true)
    for (let i = 0; i < 50; i++) expect(await cache.get(`k${i}`)).toBe(`value ${i}`)
    await cache.close()
  }, 10_000)
})
