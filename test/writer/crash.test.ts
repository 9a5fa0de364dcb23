import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnScript } from '../helpers/child-process.js'

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url))
const ROUNDS = 6
const FAILING_ROUNDS = 3

interface Issued {
  n: number
  type: 'set' | 'delete'
}

describe('write-back across kill -9', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('puts every acknowledged op at the source with its key’s last value, in per-key order, after kills at random moments (also with a source failing 30 % of writes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-writer-crash-'))
    dirs.push(dir)
    const journal = join(dir, 'journal')
    const source = join(dir, 'source.jsonl')
    const log = join(dir, 'ops.log')
    let killedWithAcks = 0
    for (let round = 0; round < ROUNDS + FAILING_ROUNDS; round++) {
      const failRate = round < ROUNDS ? 0 : 0.3
      const child = spawnScript(CHILD, [journal, source, log, 'run', String(round * 1_000_000), String(failRate)])
      await child.waitFor(/^ready$/)
      const acksBefore = await countAcks(log)
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 400))
      child.proc.kill('SIGKILL')
      await child.exited
      if ((await countAcks(log)) > acksBefore) killedWithAcks++
    }
    // Each round acknowledged writes before its kill: the check below has work to judge.
    expect(killedWithAcks).toBe(ROUNDS + FAILING_ROUNDS)

    const drain = spawnScript(CHILD, [journal, source, log, 'drain', '0', '0'])
    await drain.waitFor(/^drained$/)
    expect(await drain.exited).toBe(0)

    const { issued, lastAcked } = await readLog(log)
    const writes = await readSource(source)
    expect(writes.size).toBeGreaterThan(0)
    const problems: string[] = []
    for (const [key, ops] of issued) {
      const atSource = writes.get(key) ?? []
      // Per-key order: the values a key's sets reach the source with never go back.
      const values = atSource.filter((w) => w !== 'delete') as number[]
      for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) problems.push(`${key}: ${values[i - 1]} then ${values[i]} at the source`)
      const acked = lastAcked.get(key)
      if (acked === undefined) continue
      // The last acknowledged op, or one issued after it (durable, unacknowledged when the kill came), is the source's state.
      const from = ops.findIndex((op) => op.n === acked)
      const final = atSource.at(-1)
      const later = ops.slice(from)
      const matches = final === 'delete' ? later.some((op) => op.type === 'delete') : later.some((op) => op.type === 'set' && op.n === final)
      if (!matches) problems.push(`${key}: last acknowledged op ${acked} (${ops[from]?.type}), the source ends with ${String(final)}`)
    }
    expect(problems).toEqual([])
    // A clean close with everything written leaves no journal segment behind.
    expect((await readdir(journal)).filter((name) => name.endsWith('.log'))).toEqual([])
  }, 180_000)
})

async function countAcks(log: string): Promise<number> {
  const text = await readFile(log, 'utf8').catch(() => '')
  return text.split('\n').filter((line) => line.startsWith('A ')).length
}

async function readLog(log: string): Promise<{ issued: Map<string, Issued[]>; lastAcked: Map<string, number> }> {
  const issued = new Map<string, Issued[]>()
  const lastAcked = new Map<string, number>()
  const typeOf = new Map<number, Issued>()
  for (const line of (await readFile(log, 'utf8')).split('\n')) {
    const [tag, key, n, type] = line.split(' ')
    if (tag === 'I') {
      const op = { n: Number(n), type: type as Issued['type'] }
      typeOf.set(op.n, op)
      const list = issued.get(key as string) ?? []
      list.push(op)
      issued.set(key as string, list)
    } else if (tag === 'A') {
      // Acks of one key come in issue order (its ops are applied in order): the last seen is the last acknowledged.
      const prior = lastAcked.get(key as string)
      if (prior === undefined || Number(n) > prior) lastAcked.set(key as string, Number(n))
    }
  }
  return { issued, lastAcked }
}

async function readSource(file: string): Promise<Map<string, (number | 'delete')[]>> {
  const writes = new Map<string, (number | 'delete')[]>()
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line === '') continue
    const w = JSON.parse(line) as { k: string; t: 's' | 'd'; v?: number }
    const list = writes.get(w.k) ?? []
    list.push(w.t === 'd' ? 'delete' : (w.v as number))
    writes.set(w.k, list)
  }
  return writes
}
