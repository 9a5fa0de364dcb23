import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const example = (name: string, timeout = 60_000, preload: string[] = [], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', ...preload, `examples/${name}`], { cwd: root, timeout, env: { ...process.env, ...env } })

// The examples are what a user copies from, and `npm start` runs the demo: they must run and exit by themselves.
describe('examples', () => {
  it('the demo (`npm start`) runs its workload, reports, and exits, with no Redis and no redis package', async () => {
    // The package made unresolvable and REDIS_URL pointing nowhere: the single-process default needs neither.
    const dir = await mkdtemp(join(tmpdir(), 'demo-redis-'))
    const log = join(dir, 'redis.log')
    const preload = ['--import', fileURLToPath(new URL('./remote/fixtures/without-redis.ts', import.meta.url))]
    const { stdout } = await example('demo.ts', 60_000, preload, { REDIS_LOG: log, REDIS_URL: 'redis://127.0.0.1:1' })
    expect(stdout).toMatch(/hit ratio\s+\d+\.\d %/)
    expect(stdout).toMatch(/getOrSet latency\s+p50/)
    expect(stdout).toMatch(/warm tier\s+\d+ entries/)
    expect(await readFile(log, 'utf8').catch(() => '')).toBe('')
    await rm(dir, { recursive: true, force: true })
  }, 60_000)

  it('import the package by its name, as a user would, never from src/', async () => {
    const files = (await readdir(`${root}examples`)).filter((f) => f.endsWith('.ts'))
    const sources = await Promise.all(files.map(async (f) => [f, await readFile(`${root}examples/${f}`, 'utf8')] as const))
    expect(sources.filter(([, text]) => /from '\.\.\/src\//.test(text)).map(([f]) => f)).toEqual([])
    expect(sources.filter(([, text]) => text.includes("from 'strata-cache'")).map(([f]) => f)).toEqual(['demo.ts', 'watch-key.ts', 'write-back-postgres.ts'])
  })

  it('the write-back example writes through PostgreSQL (on 127.0.0.1:5432) and exits', async () => {
    const { stdout } = await example('write-back-postgres.ts')
    expect(stdout).toMatch(/rows in PostgreSQL: 99; source writes: \d+ for 501 cache writes/)
  }, 60_000)

  it('the multi-instance example runs three servers behind one Redis: a write through one reaches the others, then all stop', async () => {
    // Four processes start through tsx: slow on a loaded machine.
    const { stdout } = await example('multi-instance/run.ts', 150_000)
    const id = /GET +\/items\/(item-\w+) via instance 2/.exec(stdout)?.[1]
    const reads = [...stdout.matchAll(/^GET +\/items\/\S+ via (instance \d): (.*)$/gm)].map(([, instance, body]) => {
      const { item, from } = JSON.parse(body) as { item: { name: string }; from: string }
      return `${instance} ${from} ${item.name}`
    })
    expect(reads).toEqual([
      `instance 2 source item ${id}`,
      `instance 3 redis item ${id}`,
      `instance 1 redis item ${id}`,
      `instance 2 memory item ${id}`,
      `instance 3 memory item ${id}`,
      'instance 2 redis renamed through instance 1',
      'instance 3 redis renamed through instance 1',
      `instance 1 source item ${id}`,
    ])
    expect(stdout).toMatch(/instance 2 dropped its old copy \d+\.\d+ ms after the PUT was sent/)
    expect(stdout).toMatch(/instance 3 dropped its old copy \d+\.\d+ ms after the PUT was sent/)
    expect(stdout).toMatch(/stopped the three instances\n$/)
  }, 160_000)

  it('the watch example runs and exits', async () => {
    const { stdout } = await example('watch-key.ts')
    expect(stdout.length).toBeGreaterThan(0)
  })
})
