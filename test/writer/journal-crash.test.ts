import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Journal } from '../../src/writer/journal.js'
import { replayJournal } from '../../src/writer/journal-replay.js'
import { spawnScript } from '../helpers/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/journal-crash-child.ts', import.meta.url))

/** Each round: the mode, and the segment size (small ones rotate often; a large spare takes a while to fill). */
const ROUNDS: [mode: string, bytes: number][] = [
  ['run', 64 << 10],
  ['preparing', 2 << 20],
  ['rotated', 256 << 10],
  ['run', 16 << 10],
  ['preparing', 2 << 20],
  ['rotated', 64 << 10],
  ['run', 256 << 10],
  ['preparing', 1 << 20],
  ['rotated', 16 << 10],
]

describe('journal across kill -9', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('keeps every acknowledged record after kills at random moments, while the spare is being filled, and just after a rotation into it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'strata-journal-crash-'))
    dirs.push(root)
    const dir = join(root, 'journal')
    const log = join(root, 'acks.log')
    for (const [mode, bytes] of ROUNDS) {
      const acksBefore = (await acked(log)).length
      const child = spawnScript(CHILD, [dir, log, mode, String(bytes)])
      await child.waitFor(/^ready$/)
      if (mode === 'run') {
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400))
        child.proc.kill('SIGKILL')
      } else {
        // The child kills itself at the moment its mode names, and says so first.
        expect(await child.waitFor(/^killing /)).toMatch(mode === 'preparing' ? /^killing preparing \d+ at \d+ bytes$/ : /^killing rotated \d+$/)
      }
      expect(await child.exited).toBeNull()
      const acks = await acked(log)
      expect(acks.length).toBeGreaterThan(acksBefore)

      // Every record acknowledged so far, in this round or an earlier one, is replayed whole, and nothing else is.
      const replayed = await replayJournal(dir)
      const seqs = new Set<number>()
      for (const { record } of replayed.last) {
        expect(record.key).toBe(`k${record.seq}`)
        expect(Buffer.from(record.value).toString().split(':')[0]).toBe(String(record.seq))
        seqs.add(record.seq)
      }
      expect(acks.filter((seq) => !seqs.has(seq))).toEqual([])
      expect(replayed.records).toBe(replayed.last.length)
    }

    // A clean open and close with every op written leaves no segment behind: no spare of any round is left over.
    const { journal, replayed } = await Journal.open(dir, () => undefined)
    for (const { segment } of replayed.last) journal.release(segment)
    await journal.close()
    expect((await readdir(dir)).filter((name) => name.endsWith('.log'))).toEqual([])
  }, 180_000)
})

async function acked(log: string): Promise<number[]> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((line) => line.startsWith('A '))
    .map((line) => Number(line.slice(2)))
}
