/**
 * Requests between the benchmark and the processes it starts (the other
 * instances), over Node's IPC channel. Times cross the channel as strings of
 * `process.hrtime.bigint()`: the monotonic clock of the machine, the same
 * in every process, so a time taken in one can be subtracted from one
 * taken in another.
 */
import { type ChildProcess, fork } from 'node:child_process'

interface Envelope {
  id: number
  body: unknown
}

interface Reply {
  id: number
  result?: unknown
  error?: string
}

/** A child process that answers requests; `stop` ends it and waits for its exit. */
export class Peer {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  readonly #exited: Promise<number | null>
  #next = 0

  private constructor(child: ChildProcess) {
    this.#child = child
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    child.on('message', (message: Reply) => {
      const pending = this.#pending.get(message.id)
      if (pending === undefined) return
      this.#pending.delete(message.id)
      if (message.error !== undefined) pending.reject(new Error(message.error))
      else pending.resolve(message.result)
    })
    void this.#exited.then((code) => {
      for (const pending of this.#pending.values()) pending.reject(new Error(`peer exited (${code}) with a request pending`))
      this.#pending.clear()
    })
  }

  /**
   * Starts `script` with this process's node flags (tsx's loader, and `--cpu-prof` when the benchmark is profiled)
   * and waits until it says it is ready.
   */
  static async start(script: string, args: string[]): Promise<Peer> {
    const child = fork(script, args, { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const peer = new Peer(child)
    await peer.request({ type: 'ready' })
    return peer
  }

  request<R>(body: unknown): Promise<R> {
    const id = this.#next++
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.#child.send({ id, body } satisfies Envelope)
    })
  }

  /** Asks the peer to close its caches and exit. */
  async stop(): Promise<void> {
    await this.request({ type: 'stop' }).catch(() => undefined)
    const code = await this.#exited
    if (code !== 0) throw new Error(`peer exited with code ${code}`)
  }
}

/**
 * The child's side: answers each request with `handle`'s result. `ready`
 * resolves once the child's caches are open; `stop` runs `close`, then the
 * channel closes and the process exits by itself.
 */
export function serve(handle: (body: { type: string }) => Promise<unknown>, ready: Promise<void>, close: () => Promise<void>): void {
  const send = (reply: Reply) => process.send?.(reply)
  process.on('message', async ({ id, body }: Envelope) => {
    const request = body as { type: string }
    try {
      if (request.type === 'ready') send({ id, result: await ready })
      else if (request.type === 'stop') {
        await close()
        send({ id, result: null })
        process.disconnect()
      } else send({ id, result: await handle(request) })
    } catch (error) {
      send({ id, error: String((error as Error)?.stack ?? error) })
    }
  })
}

export const msBetween = (from: string | bigint, to: string | bigint): number => Number(BigInt(to) - BigInt(from)) / 1e6
