import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { createClient } from 'redis'
import type { RedisClient } from '../../src/remote/redis-client.js'

/** The Redis the tests share: `REDIS_URL` (set by .ci/run when it started one), else the machine's on 6379. */
export const redisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A key prefix no other test (or run) uses: tests share one Redis and never touch each other's keys. */
export const testPrefix = (name: string): string => `strata-test:${name}:${randomUUID().slice(0, 8)}:`

/** A connected node-redis client of the tests' own, typed as the cache takes it. */
export async function connectClient(url = redisUrl()): Promise<RedisClient> {
  const client = createClient({ url })
  client.on('error', () => undefined) // a test that kills connections sees the failures where it awaits
  try {
    await client.connect()
  } catch (error) {
    throw new Error(`no Redis answers at ${url}: start one (redis-server --port 6379 --save '') or set REDIS_URL; bash .ci/run does it for you`, {
      cause: error,
    })
  }
  return client as unknown as RedisClient
}

/** Deletes every key under `prefix`, in SCAN pages. */
export async function dropPrefix(client: RedisClient, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await client.sendCommand<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])
    cursor = next
    if (keys.length > 0) await client.sendCommand(['UNLINK', ...keys])
  } while (cursor !== '0')
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** A redis-server of one test's own, on a free port: for faults a shared server must not suffer (a restart). */
export interface PrivateRedis {
  readonly url: string
  readonly port: number
  /** `SHUTDOWN NOSAVE`: the server's data is gone, as after a crash of a server that keeps nothing. */
  shutdown(): Promise<void>
  /** Starts it again on the same port, empty. */
  start(): Promise<void>
  stop(): Promise<void>
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let proc: ChildProcess | undefined
  const url = `redis://127.0.0.1:${port}`
  const start = async (): Promise<void> => {
    if (proc !== undefined && proc.exitCode === null) return
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    for (let i = 0; i < 200; i++) {
      try {
        const client = await connectClient(url)
        await client.close()
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    }
    throw new Error(`redis-server did not start on port ${port}`)
  }
  const shutdown = async (): Promise<void> => {
    const running = proc
    if (running === undefined || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    const client = await connectClient(url)
    await client.sendCommand(['SHUTDOWN', 'NOSAVE']).catch(() => undefined) // the server closes the connection as it goes
    client.destroy()
    await exited
    proc = undefined
  }
  await start()
  const stop = async (): Promise<void> => {
    if (proc !== undefined && proc.exitCode === null) proc.kill('SIGKILL')
    proc = undefined
  }
  return { url, port, start, shutdown, stop }
}
