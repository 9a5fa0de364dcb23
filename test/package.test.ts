import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

// `npm test` builds first; these check what a user of the published package gets.
describe('the built package', () => {
  it('is importable by name as plain ESM, and a script using it exits by itself', async () => {
    const script = `
      import { createCache, CacheError } from 'strata-cache'
      const cache = createCache({ warm: { maxBytes: 1 << 20 }, ttl: 1000 })
      await cache.set('k', new Map([[1, 2n]]))
      const value = await cache.get('k')
      await cache.close()
      const closed = await cache.get('k').catch((e) => e instanceof CacheError && e.code)
      console.log(value.get(1) === 2n, closed)
    `
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 10_000 })
    expect(stdout.trim()).toBe('true E_CLOSED')
  })

  it('ships a CLI that answers --version', async () => {
    const { stdout } = await run(process.execPath, ['dist/src/cli.js', '--version'], { cwd: root, timeout: 10_000 })
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
