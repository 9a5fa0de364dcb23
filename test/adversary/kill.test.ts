// kill -9 of a child doing mixed operations, round after round on one
// directory; after each kill the store is reopened and every key checked
// against the child's log.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { spawnScript } from '../helpers/child-process.js'
import { type Baseline, crashOptions, KEYS, type Outcome, replay, type VersionMeta } from './helpers/crash-log.js'
import { type Stamped, versionOf } from './helpers/stamped.js'

const CHILD = fileURLToPath(new URL('./fixtures/mixed-child.ts', import.meta.url))
const ROUNDS = 10
/** Real-clock expiry is judged with this much slack either way. */
const SLACK = 50

describe('the adversary: kill -9 during mixed operations', () => {
  it(`${ROUNDS} rounds on one directory: every key reads as of its last completed checkpoint or as acknowledged after it, never older, never wrong`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-adversary-kill-'))
    const logs = await mkdtemp(join(tmpdir(), 'strata-adversary-kill-log-'))
    let baseline = new Map<string, Outcome>(KEYS.map((key) => [key, 'absent']))
    const versions = new Map<number, VersionMeta>()
    let checkpoints = 0
    /** The cache a round's check opened, closed in `finally` too, so that a failed check reports its own error. */
    let open: ReturnType<typeof createCache<Stamped>> | undefined
    let seed = 0x5eed
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const log = join(logs, `round-${round}.log`)
        const state = join(logs, `round-${round}.json`)
        const start: Baseline = {}
        for (const [key, v] of baseline) if (v !== 'absent') start[key] = { v, ...(versions.get(v) as VersionMeta) }
        await writeFile(state, JSON.stringify(start))
        const child = spawnScript(CHILD, [dir, log, String(1 + Math.floor(random() * 2 ** 30)), String(round), state])
        await child.waitFor(/^ready$/)
        await new Promise((resolve) => setTimeout(resolve, 100 + random() * 500))
        child.proc.kill('SIGKILL')
        await child.exited
        const lines = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '')
        const { outcomes, violations } = replay(lines, baseline, versions)
        expect(violations, `round ${round}: what the child found`).toEqual([])
        expect(lines.filter((l) => l === 'ack').length, `round ${round}: the child got going`).toBeGreaterThan(10)
        checkpoints += lines.filter((l, i) => /^op \{"t":"(cp|reopen)"/.test(l) && lines[i + 1] === 'ack').length

        const cache = (open = createCache<Stamped>(crashOptions(dir, 'always')))
        const errors: string[] = []
        cache.events$.subscribe((e) => {
          if (e.type === 'error' && e.error.code !== 'E_CORRUPT') errors.push(e.error.message)
        })
        await cache.ready
        const wrong: string[] = []
        const observed = new Map<string, Outcome>()
        for (const key of KEYS) {
          const before = Date.now()
          const value = await cache.get(key)
          const after = Date.now()
          let got: Outcome
          try {
            got = value === undefined ? 'absent' : versionOf(key, value)
          } catch (error) {
            wrong.push(String(error))
            continue
          }
          const allowed = new Set(outcomes.get(key))
          for (const v of [...allowed]) {
            const expiresAt = typeof v === 'number' ? (versions.get(v)?.expiresAt ?? 0) : 0
            if (expiresAt === 0) continue
            // The cache read its clock between `before` and `after`.
            if (expiresAt <= after + SLACK) allowed.add('absent')
            if (expiresAt <= before - SLACK) allowed.delete(v)
          }
          if (!allowed.has(got)) wrong.push(`${key}: read ${got}, allowed ${[...allowed].join(', ')}`)
          observed.set(key, got)
          if (got === 'absent' && (await cache.has(key))) wrong.push(`${key}: get missed, has() is true`)
        }
        expect(wrong, `round ${round} (log ${log})`).toEqual([])
        expect(errors, `round ${round}`).toEqual([])
        await cache.close()
        baseline = observed
      }
      expect(checkpoints, 'checkpoints completed over all rounds').toBeGreaterThan(ROUNDS)
    } finally {
      await open?.close().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
      await rm(logs, { recursive: true, force: true })
    }
  }, 90_000)
})
