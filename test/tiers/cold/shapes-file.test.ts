import { execFileSync } from 'node:child_process'
import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SHAPES_NAME, ShapesFile } from '../../../src/tiers/cold/shapes-file.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'strata-shapes-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const path = () => join(dir, SHAPES_NAME)

describe('the shapes file', () => {
  it('is absent until a save, and reads back every save in order', async () => {
    const first = await ShapesFile.open(dir)
    expect(first.shapes).toEqual([])
    await expect(stat(path())).rejects.toMatchObject({ code: 'ENOENT' })
    await first.file.save([['a', 'b'], ['c']], 0)
    await first.file.save([['d']], 2)
    const again = await ShapesFile.open(dir)
    expect(again.shapes).toEqual([['a', 'b'], ['c'], ['d']])
    await again.file.save([['e', 'f']], 3)
    expect((await ShapesFile.open(dir)).shapes).toEqual([['a', 'b'], ['c'], ['d'], ['e', 'f']])
  })

  it('cuts a torn last save off at open, so that the next save is read after the whole ones', async () => {
    const { file } = await ShapesFile.open(dir)
    await file.save([['a']], 0)
    const whole = (await stat(path())).size
    await file.save([['b', 'c']], 1)
    await truncate(path(), (await stat(path())).size - 3) // the crash cut the second save short

    const reopened = await ShapesFile.open(dir)
    expect(reopened.shapes).toEqual([['a']])
    expect((await stat(path())).size).toBe(whole)
    await reopened.file.save([['d']], 1)
    expect((await ShapesFile.open(dir)).shapes).toEqual([['a'], ['d']])
  })

  it('stops at a frame whose checksum or numbering is wrong', async () => {
    const { file } = await ShapesFile.open(dir)
    await file.save([['a']], 0)
    await file.save([['b']], 1)
    const bytes = await readFile(path())
    bytes[bytes.length - 1] ^= 0xff
    await writeFile(path(), bytes)
    expect((await ShapesFile.open(dir)).shapes).toEqual([['a']])

    await rm(path())
    const fresh = await ShapesFile.open(dir)
    await fresh.file.save([['a']], 0)
    await fresh.file.save([['b']], 5) // not continuing the ones before it
    expect((await ShapesFile.open(dir)).shapes).toEqual([['a']])
  })

  it('ignores garbage after the last whole frame and garbage alone', async () => {
    await writeFile(path(), Buffer.from('not a shapes file at all'))
    expect((await ShapesFile.open(dir)).shapes).toEqual([])
    await rm(path())
    const { file } = await ShapesFile.open(dir)
    await file.save([['a']], 0)
    await appendFile(path(), Buffer.alloc(100, 7))
    expect((await ShapesFile.open(dir)).shapes).toEqual([['a']])
  })

  it('refuses a FIFO in its place at once instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [path()])
    await expect(ShapesFile.open(dir)).rejects.toMatchObject({ code: 'E_IO' })
  })
})
