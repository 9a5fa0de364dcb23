import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const example = (name: string) => run(process.execPath, ['--import', 'tsx', `examples/${name}`], { cwd: root, timeout: 60_000 })

// The examples are what a user copies from, and `npm start` runs the demo: they must run and exit by themselves.
describe('examples', () => {
  it('the demo runs its workload, reports, and exits', async () => {
    const { stdout } = await example('demo.ts')
    expect(stdout).toMatch(/hit ratio\s+\d+\.\d %/)
    expect(stdout).toMatch(/getOrSet latency\s+p50/)
    expect(stdout).toMatch(/warm tier\s+\d+ entries/)
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

  it('the watch example runs and exits', async () => {
    const { stdout } = await example('watch-key.ts')
    expect(stdout.length).toBeGreaterThan(0)
  })
})
