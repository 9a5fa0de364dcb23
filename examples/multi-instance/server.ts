// One instance of an HTTP service with a cache shared through Redis: start it as many times as you like, behind one
// Redis, and each instance serves from its own memory what it read before, and drops that copy when another instance
// writes the item. GET /items/:id reads through the cache (a stand-in catalogue is the source); PUT stores a new
// version (a JSON body: { name }); DELETE removes it. Each response says where the item came from.
//
//   PORT=3001 npx tsx examples/multi-instance/server.ts    (REDIS_URL, default redis://127.0.0.1:6379)
//
// Prints `listening <port>` once it serves, and `dropped <id> <time>` when its copy of an item is dropped (the time
// is process.hrtime.bigint(), the machine's monotonic clock, so run.ts can tell how long the invalidation took).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { CacheError, createCache } from 'strata-cache'

interface Item {
  id: string
  name: string
}

// The source of truth, standing in for a database: it knows every item's first version, and takes 20 ms to answer.
const source = {
  calls: 0,
  async load(id: string, signal: AbortSignal): Promise<Item> {
    source.calls++
    await sleep(20, undefined, { signal })
    return { id, name: `item ${id}` }
  },
}

const cache = createCache<Item>({
  hot: { maxEntries: 10_000 },
  ttl: 60_000,
  remote: { redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: 'multi-instance-example:' },
})
await cache.ready

// A write through another instance reaches this one as a `delete` of its local copy, through the bus.
cache.events$.subscribe((event) => {
  if (event.type === 'delete') console.log(`dropped ${event.key} ${process.hrtime.bigint()}`)
})

const json = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of request) text += chunk
  return JSON.parse(text)
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const id = /^\/items\/([\w-]+)$/.exec(request.url ?? '')?.[1]
  if (id === undefined) return json(response, 404, { error: 'not found: try /items/:id' })
  switch (request.method) {
    case 'GET': {
      const inMemory = cache.peek(id) !== undefined
      const calls = source.calls
      const item = await cache.getOrSet(id, ({ signal }) => source.load(id, signal))
      const from = inMemory ? 'memory' : source.calls > calls ? 'source' : 'redis'
      return json(response, 200, { item, from })
    }
    case 'PUT': {
      const body = (await readBody(request)) as { name?: unknown }
      if (typeof body?.name !== 'string') return json(response, 400, { error: 'the body must be { "name": string }' })
      const item = { id, name: body.name }
      // Resolves once Redis holds it, and every other instance has been told to drop its copy.
      await cache.set(id, item)
      return json(response, 200, { item })
    }
    case 'DELETE':
      return json(response, 200, { deleted: await cache.delete(id) })
    default:
      return json(response, 405, { error: 'GET, PUT or DELETE' })
  }
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    // E_REMOTE: Redis failed or was too slow; the write was not made.
    const status = error instanceof CacheError && error.code === 'E_REMOTE' ? 503 : 500
    json(response, status, { error: String(error) })
  })
})
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address()
  console.log(`listening ${typeof address === 'object' && address !== null ? address.port : address}`)
})

process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void cache.close()
})
