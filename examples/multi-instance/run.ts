// Starts three instances of server.ts behind one Redis, writes an item through one and reads it through the others,
// prints what each returned and how long the other instances took to drop their old copy, then stops them.
//
//   npx tsx examples/multi-instance/run.ts    (REDIS_URL, default redis://127.0.0.1:6379)
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

interface Instance {
  name: string
  url: string
  process: ChildProcess
  /** When this instance next drops its copy of `id`, on the machine's monotonic clock. */
  nextDrop(id: string): Promise<bigint>
}

const server = fileURLToPath(new URL('./server.ts', import.meta.url))

async function start(name: string): Promise<Instance> {
  // The same node flags this script runs with (tsx's loader), so the server runs as TypeScript too.
  const child = spawn(process.execPath, [...process.execArgv, server], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] })
  const drops = new Map<string, (at: bigint) => void>()
  const port = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it listened`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, id, at] = line.split(' ')
      if (word === 'listening') resolve(id)
      if (word === 'dropped') drops.get(id)?.(BigInt(at))
    })
  })
  const nextDrop = (id: string) => new Promise<bigint>((resolve) => drops.set(id, resolve))
  return { name, url: `http://127.0.0.1:${await port}`, process: child, nextDrop }
}

const msSince = (from: bigint, to = process.hrtime.bigint()): string => (Number(to - from) / 1e6).toFixed(2)

async function call(instance: Instance, method: string, id: string, body?: unknown): Promise<string> {
  const response = await fetch(`${instance.url}/items/${id}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} via ${instance.name}: ${response.status} ${text}`)
  console.log(`${method.padEnd(6)} /items/${id} via ${instance.name}: ${text}`)
  return text
}

const instances = await Promise.all(['instance 1', 'instance 2', 'instance 3'].map(start))
const [one, two, three] = instances as [Instance, Instance, Instance]
try {
  console.log(`three instances on ${instances.map((i) => i.url).join(', ')}, one Redis (${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'})\n`)
  // An id of this run's own: two runs at once on one Redis never see each other's item.
  const id = `item-${randomUUID().slice(0, 8)}`
  await call(two, 'GET', id) // the source: nobody had it
  await call(three, 'GET', id) // Redis: instance 2 put it there
  await call(one, 'GET', id) // Redis
  await call(two, 'GET', id) // instance 2's memory
  await call(three, 'GET', id) // instance 3's memory

  const drops = [two, three].map((instance) => instance.nextDrop(id))
  const sent = process.hrtime.bigint()
  await call(one, 'PUT', id, { name: 'renamed through instance 1' })
  console.log(`  instance 1 answered the PUT in ${msSince(sent)} ms (Redis holds the new version, the bus has it)`)
  for (const [i, instance] of [two, three].entries()) {
    console.log(`  ${instance.name} dropped its old copy ${msSince(sent, await drops[i])} ms after the PUT was sent`)
  }
  await call(two, 'GET', id) // Redis: the new version
  await call(three, 'GET', id)
  await call(three, 'DELETE', id)
  await call(one, 'GET', id) // the source again
} finally {
  for (const instance of instances) instance.process.kill('SIGTERM')
  await Promise.all(instances.map((instance) => (instance.process.exitCode === null ? once(instance.process, 'exit') : undefined)))
  console.log('\nstopped the three instances')
}
