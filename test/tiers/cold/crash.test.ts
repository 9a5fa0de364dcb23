import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileURLToPath } from 'node:url'
import { spawnScript } from '../../helpers/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/child.ts', import.meta.url))
const spawnChild = (args: string[], env: Record<string, string> = {}) => spawnScript(CHILD, args, env)
import { crashValue } from './fixtures/values.js'
import { harness, makeTempDir, text, type Harness } from './helpers.js'

let h: Harness
let cleanup: () => Promise<void>

beforeAll(async () => {
  const tmp = await makeTempDir()
  cleanup = tmp.cleanup
  h = harness(tmp.dir, { segmentBytes: 64 * 1024, maxBytes: 64 * 1024 * 1024 })
})
afterAll(() => cleanup())

const ROUNDS = 8

describe('crash safety', () => {
  it(`kill -9 at random moments, ${ROUNDS} rounds on one directory: every synced entry survives`, async () => {
    let start = 0
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawnChild(['write', h.dir], { START: String(start) })
      await child.waitFor(/^ready$/)
      // A real process needs real time: let it write for a random while, then kill it mid-flight.
      await child.waitFor(/^synced /)
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 300))
      child.proc.kill('SIGKILL')
      await child.exited
      const synced = Math.max(0, ...child.lines.filter((l) => l.startsWith('synced ')).map((l) => Number(l.slice(7))))
      expect(child.lines.filter((l) => l.startsWith('error'))).toEqual([])
      expect(synced).toBeGreaterThan(start)

      const store = await h.open()
      const keys = Array.from({ length: synced }, (_, i) => `key-${i}`)
      const got = await store.getMany(keys)
      const wrong = got.flatMap((g, i) => (text(g?.value) === crashValue(i) ? [] : [keys[i]]))
      expect(wrong, `round ${round}: ${synced} synced`).toEqual([])
      expect(h.errors.filter((e) => e.code !== 'E_CORRUPT')).toEqual([])
      await store.close()
      start = synced
    }
  }, 60_000)
})
