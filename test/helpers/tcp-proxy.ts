import { type Socket, createConnection, createServer } from 'node:net'

/** A TCP proxy in front of a server, to make partitions: traffic held without an error, or connections dropped. */
export interface TcpProxy {
  readonly port: number
  /** `redis://` on the proxy's port. */
  readonly url: string
  /** Stops forwarding in both directions; connections stay open, and new ones are accepted but held too. */
  hold(): void
  /** Forwards again, what was held first. */
  resume(): void
  /** Destroys every connection, as a network that resets them. */
  drop(): void
  close(): Promise<void>
}

interface Link {
  from: Socket
  to: Socket
  held: Buffer[]
}

/** A proxy to the server of a `redis://host:port` address. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname: targetHost, port } = new URL(target)
  const targetPort = port === '' ? 6379 : Number(port)
  let holding = false
  const links = new Set<Link>()
  const sockets = new Set<Socket>()
  const forward = (from: Socket, to: Socket): void => {
    const link: Link = { from, to, held: [] }
    links.add(link)
    from.on('data', (chunk: Buffer) => {
      if (holding || link.held.length > 0) link.held.push(chunk)
      else to.write(chunk)
    })
    from.on('close', () => {
      links.delete(link)
      to.destroy()
    })
  }
  const server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: targetHost })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => sockets.delete(socket))
    }
    forward(client, upstream)
    forward(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const own = (server.address() as { port: number }).port
  const drop = (): void => {
    for (const socket of sockets) socket.destroy()
  }
  return {
    port: own,
    url: `redis://127.0.0.1:${own}`,
    hold: () => {
      holding = true
    },
    resume: () => {
      holding = false
      for (const link of links) {
        for (const chunk of link.held.splice(0)) if (!link.to.destroyed) link.to.write(chunk)
      }
    },
    drop,
    close: () => {
      drop()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
