import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

// Built from pieces so that this file does not match itself.
const outside = new RegExp(['\\.\\./' + 'shared/', '\\bshared/' + '(traces|DESIGN|STYLE|hooks)', 'DESIGN' + '\\.md'].join('|'))

/** Every file a clone has: tracked, or new and not ignored. */
async function repositoryFiles(): Promise<string[]> {
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root })
  return stdout.split('\n').filter((file) => /\.(ts|js|json|md|sh)$|^\.ci\//.test(file) && file !== 'package-lock.json')
}

describe('the repository', () => {
  it('refers to no file outside itself', async () => {
    const offenders: string[] = []
    for (const file of await repositoryFiles()) {
      const text = await readFile(root + file, 'utf8').catch(() => '')
      text.split('\n').forEach((line, i) => {
        if (outside.test(line)) offenders.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`)
      })
    }
    expect(offenders).toEqual([])
  })
})
