import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDirs } from '../helpers/temp-dirs.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const newDir = tempDirs('strata-api-')

// The API reference is generated from the doc comments: a broken link, or a public type that is not exported, fails here.
describe('the API reference', () => {
  it('builds from the doc comments with warnings as errors', async () => {
    const out = join(await newDir(), 'api')
    const typedoc = join(root, 'node_modules/typedoc/bin/typedoc')
    const result = await run(process.execPath, [typedoc, '--treatWarningsAsErrors', '--out', out], { cwd: root, timeout: 60_000 }).catch(
      (e: { stdout: string; stderr: string }) => e,
    )
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/\[(warning|error)\]/)
    expect(existsSync(join(out, 'functions/createCache.html'))).toBe(true)
    expect(existsSync(join(out, 'interfaces/PrefetchOptions.html'))).toBe(true)
  }, 60_000)
})
