import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { spawnScript } from '../helpers/child-process.js'

describe('closing a write-back cache', () => {
  it('gives up on a source that never answers after closeTimeout, and leaves nothing that keeps the process alive', async () => {
    const child = spawnScript(fileURLToPath(new URL('./fixtures/writer-close.ts', import.meta.url)), [])
    await child.waitFor(/^closed$/)
    expect(await child.exited).toBe(0)
  })
})
