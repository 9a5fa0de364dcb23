import { from, type Observable, switchMap } from 'rxjs'
import type { SchedulerLike } from 'rxjs'
import { asCacheError } from '../errors.js'
import type { ResolvedBus } from '../options/distributed-options.js'
import { closeRedis, openRedis } from '../remote/redis-connection.js'
import type { RemoteLink } from '../remote/remote-link.js'
import { BroadcastTransport } from './broadcast-transport.js'
import type { Invalidation, Transport, TransportState } from './invalidation.js'
import { RedisStreamTransport } from './redis-stream-transport.js'

/** The bus the options name, usable at once: a Redis transport's streams begin once its connection is open. */
export interface OpenedBus {
  transport: Transport
  /** Resolves once the transport is open; rejects (E_REMOTE) if it cannot open. */
  opened: Promise<void>
  close(): Promise<void>
}

export function openBus(bus: ResolvedBus, origin: string, remote: RemoteLink | undefined, scheduler: SchedulerLike): OpenedBus {
  if (bus.kind === 'custom') return { transport: bus.transport, opened: Promise.resolve(), close: async () => bus.transport.close?.() }
  if (bus.kind === 'broadcast') {
    const transport = new BroadcastTransport(bus.channel, origin)
    return { transport, opened: Promise.resolve(), close: () => transport.close() }
  }
  let owned: { client: Parameters<typeof closeRedis>[0]['client']; owned: boolean } | undefined
  const opening = (async () => {
    const client = bus.sharesRemote && remote !== undefined ? (await remote.opened).client : (owned = await openRedis(bus.redis)).client
    const transport = new RedisStreamTransport(client, origin, { prefix: bus.prefix, retention: bus.retention, commandTimeout: bus.commandTimeout }, scheduler)
    await transport.open()
    return transport
  })().catch((error: unknown) => {
    throw asCacheError(error, 'E_REMOTE', `cannot open the bus: ${String(error)}`)
  })
  opening.catch(() => undefined) // told through `opened`
  const messages$: Observable<Invalidation> = from(opening).pipe(switchMap((transport) => transport.messages$))
  const state$: Observable<TransportState> = from(opening).pipe(switchMap((transport) => transport.state$))
  const transport: Transport = { publish: async (message) => (await opening).publish(message), messages$, state$ }
  return {
    transport,
    opened: opening.then(() => undefined),
    close: async () => {
      const opened = await opening.catch(() => undefined)
      await opened?.close()
      if (owned?.owned) await closeRedis(owned)
    },
  }
}
