import { existsSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { SHARED_TRACES, SHARED_TRACES_DIR } from '../../bench/hitratio/traces.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

// A lone clone, with nothing beside it, must replay the recorded traces.
describe('the recorded traces', () => {
  it('live inside the repository', () => {
    expect(relative(root, SHARED_TRACES_DIR)).toBe('bench/traces')
  })

  it.each(SHARED_TRACES.map((t) => t.file))('%s is there', (file) => {
    expect(existsSync(SHARED_TRACES_DIR + file)).toBe(true)
  })

  it('come with their licence and attribution', () => {
    expect(existsSync(`${SHARED_TRACES_DIR}LICENSE-trace-mt.txt`)).toBe(true)
    expect(existsSync(`${SHARED_TRACES_DIR}README.md`)).toBe(true)
  })
})
