import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeInvalidation } from '../../src/coherence/invalidation.js'
import { rangeEntries } from '../../src/coherence/stream-replies.js'
import type { RedisClient } from '../../src/remote/redis-client.js'
import { type Child, spawnScript } from '../helpers/child-process.js'
import { tagKeys } from './coherence-keys.js'
import type { History, Instant, Operation, Received, StreamEntry, WorkerHistory } from './history-check.js'

const WORKER = fileURLToPath(new URL('./fixtures/coherence-worker.ts', import.meta.url))

export interface RunOptions {
  /** Where the workers connect (a proxy in front of the server, maybe). */
  url: string
  /** The test's own connection to the server itself. */
  client: RedisClient
  prefix: string
  workers: number
  /** Ms each worker runs its ops, from the go. */
  duration: number
  commandTimeout: number
  /** Where the workers write their logs. */
  dir: string
  /** 'deaf': workers that never apply what they receive (to show that the checker catches it). */
  mode?: 'deaf'
}

/** What a worker told besides its ops: the cache's `bus`, `degraded` and `recovered` events, its transport's states. */
interface Told {
  t: 'event' | 'state'
  type?: string
  state?: string
  gap?: boolean
  at: Instant
}

export interface WorkerLog {
  history: WorkerHistory
  told: Told[]
}

/** A run of coherence workers on one key space: started, let go, and read back with the stream. */
export class CoherenceRun {
  readonly #options: RunOptions
  readonly #children: Child[] = []
  readonly #stderr: string[] = []
  /** Per worker: resolves once its stdio has closed, so that all it wrote to stderr has come. */
  readonly #closed: Promise<unknown>[] = []
  readonly #epochs: StreamEntry[][] = []

  constructor(options: RunOptions) {
    this.#options = options
  }

  /** Starts the workers and waits until each has its cache ready. */
  async start(): Promise<void> {
    const { url, prefix, duration, commandTimeout, mode } = this.#options
    for (let i = 1; i <= this.#options.workers; i++) {
      const child = spawnScript(WORKER, [
        url,
        prefix,
        `w${i}`,
        String(duration),
        this.#logFile(`w${i}`),
        String(commandTimeout),
        ...(mode === undefined ? [] : [mode]),
      ])
      child.proc.stderr?.on('data', (chunk: Buffer) => this.#stderr.push(`w${i}: ${chunk}`))
      this.#closed.push(new Promise((resolve) => child.proc.once('close', resolve)))
      this.#children.push(child)
    }
    await Promise.all(this.#children.map((child) => child.waitFor(/^ready$/))).catch(async (error: unknown) => {
      this.kill()
      await Promise.all(this.#closed)
      throw new Error(`${String(error)}; stderr: ${this.#stderr.join('')}`)
    })
  }

  /** Lets every worker start its ops; returns the go's instant. */
  async go(): Promise<Instant> {
    await this.#options.client.sendCommand(['SET', `${this.#options.prefix}go`, '1'])
    return process.hrtime.bigint()
  }

  /**
   * Before the server loses its data: writes are paused (a script waiting
   * never runs: the shutdown closes its connection) and the stream read, so
   * that no entry of this epoch is lost with it.
   */
  async sealEpoch(): Promise<void> {
    const { client } = this.#options
    await client.sendCommand(['CLIENT', 'PAUSE', '10000', 'WRITE'])
    this.#epochs.push(await this.#readStream())
  }

  /** Waits for every worker to exit, then reads the last epoch's stream and every log. */
  async finish(): Promise<{ history: History; logs: WorkerLog[] }> {
    const codes = await Promise.all(this.#children.map((child) => child.exited))
    await Promise.all(this.#closed)
    if (codes.some((code) => code !== 0)) throw new Error(`a worker failed: exit codes ${codes.join(', ')}; stderr: ${this.#stderr.join('')}`)
    const epochs = [...this.#epochs, await this.#readStream()]
    const logs = await Promise.all(this.#children.map((_, i) => readWorkerLog(this.#logFile(`w${i + 1}`), `w${i + 1}`)))
    return { history: { epochs, workers: logs.map((log) => log.history), tagKeys: tagKeys() }, logs }
  }

  /** Ends workers still running (a failed test). */
  kill(): void {
    for (const child of this.#children) if (child.proc.exitCode === null) child.proc.kill('SIGKILL')
  }

  #logFile(name: string): string {
    return join(this.#options.dir, `${name}.jsonl`)
  }

  async #readStream(): Promise<StreamEntry[]> {
    const { client, prefix } = this.#options
    const entries: StreamEntry[] = []
    let from = '-'
    for (;;) {
      const page = rangeEntries(await client.sendCommand(['XRANGE', `${prefix}bus`, from, '+', 'COUNT', '5000']))
      for (const [, fields] of page) {
        const message = decodeInvalidation(fields)
        if (message?.keys === undefined) throw new Error(`a stream entry that is no write of a key: ${fields.join(' ')}`)
        entries.push({ origin: message.origin, version: message.version, keys: message.keys })
      }
      if (page.length < 5000) return entries
      from = `(${page[page.length - 1][0]}`
    }
  }
}

async function readWorkerLog(file: string, name: string): Promise<WorkerLog> {
  const ops: Operation[] = []
  const received: Received[] = []
  const told: Told[] = []
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line === '') continue
    const record = JSON.parse(line)
    switch (record.t) {
      case 'op':
        ops.push({ ...record, start: BigInt(record.start), end: BigInt(record.end) })
        break
      case 'msg':
        received.push({ origin: record.origin, version: record.version, keys: record.keys, at: BigInt(record.at) })
        break
      default:
        told.push({ ...record, at: BigInt(record.at) })
    }
  }
  const gaps = told.filter((s) => s.t === 'state' && s.state === 'resynced' && s.gap === true).map((s) => s.at)
  return { history: { name, ops, received, gaps }, told }
}
