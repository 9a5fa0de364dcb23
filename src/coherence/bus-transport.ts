import { type Observable, ReplaySubject, type SchedulerLike, Subject, type Subscription } from 'rxjs'
import { asCacheError } from '../errors.js'
import type { ResolvedBus } from './bus-settings.js'
import { closeRedis, openRedis, type RedisConnection } from '../remote/redis-connection.js'
import type { RemoteLink } from '../remote/remote-link.js'
import { BroadcastTransport } from './broadcast-transport.js'
import type { BusPosition } from './bus-position.js'
import type { Invalidation, Transport, TransportState } from './invalidation.js'
import { RedisStreamTransport } from './redis-stream-transport.js'

/** A Redis bus that could not open is tried again this long after, doubling up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

/** The bus the options name, usable at once: a Redis transport's streams begin once its connection is open. */
export interface OpenedBus {
  transport: Transport
  /** Resolves once the transport is open; rejects (E_REMOTE) if its first attempt fails (it is tried again meanwhile). */
  opened: Promise<void>
  /** Where reading stands now, for a transport that can resume from it (the Redis Stream); else undefined. */
  position(): BusPosition | undefined
  close(): Promise<void>
}

/**
 * `resume`: where an earlier life of this instance stopped reading, read
 * once; a Redis bus carries on from there (see `RedisStreamTransport.resumeFrom`).
 */
export function openBus(
  bus: ResolvedBus,
  origin: string,
  remote: RemoteLink | undefined,
  scheduler: SchedulerLike,
  resume?: () => Promise<BusPosition | undefined>,
): OpenedBus {
  const nowhere = (): undefined => undefined
  if (bus.kind === 'custom') return { transport: bus.transport, opened: Promise.resolve(), position: nowhere, close: async () => bus.transport.close?.() }
  if (bus.kind === 'broadcast') {
    const transport = new BroadcastTransport(bus.channel, origin)
    return { transport, opened: Promise.resolve(), position: nowhere, close: () => transport.close() }
  }
  return new RedisBus(bus, origin, remote, scheduler, resume)
}

/**
 * A Redis Stream transport that keeps trying to open: an instance that
 * starts while Redis is down serves without its local copies (the bus has
 * never connected) until Redis answers, then connects as any other.
 */
class RedisBus implements OpenedBus {
  readonly transport: Transport
  readonly opened: Promise<void>
  readonly #messages = new Subject<Invalidation>()
  readonly #states = new ReplaySubject<TransportState>(1)
  readonly #bus: Extract<ResolvedBus, { kind: 'redis' }>
  readonly #origin: string
  readonly #remote: RemoteLink | undefined
  readonly #scheduler: SchedulerLike
  readonly #resume: Promise<BusPosition | undefined>
  #current: RedisStreamTransport | undefined
  #connection: RedisConnection | undefined
  #retry: Subscription | undefined
  #closed = false

  constructor(
    bus: Extract<ResolvedBus, { kind: 'redis' }>,
    origin: string,
    remote: RemoteLink | undefined,
    scheduler: SchedulerLike,
    resume: (() => Promise<BusPosition | undefined>) | undefined,
  ) {
    this.#bus = bus
    this.#resume = resume === undefined ? Promise.resolve(undefined) : resume().catch(() => undefined)
    this.#origin = origin
    this.#remote = remote
    this.#scheduler = scheduler
    const messages$: Observable<Invalidation> = this.#messages.asObservable()
    const state$: Observable<TransportState> = this.#states.asObservable()
    this.transport = {
      publish: async (message) => {
        const current = this.#current
        if (current === undefined) throw asCacheError(undefined, 'E_REMOTE', 'the bus is not connected: the invalidation was not published')
        return current.publish(message)
      },
      messages$,
      state$,
    }
    this.opened = new Promise((resolve, reject) => this.#attempt(FIRST_RETRY_MS, resolve, reject))
    this.opened.catch(() => undefined) // the cache's `ready` tells it
  }

  position(): BusPosition | undefined {
    return this.#current?.position
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#retry?.unsubscribe()
    await this.#current?.close()
    if (this.#connection !== undefined) await closeRedis(this.#connection)
    this.#messages.complete()
    this.#states.complete()
  }

  #attempt(wait: number, opened: () => void, failed: (error: unknown) => void): void {
    this.#open().then(opened, (error: unknown) => {
      failed(asCacheError(error, 'E_REMOTE', `cannot open the bus: ${String(error)}`))
      if (this.#closed) return
      const next = Math.min(wait * 2, MAX_RETRY_MS)
      this.#retry = this.#scheduler.schedule(
        () =>
          this.#attempt(
            next,
            () => undefined,
            () => undefined,
          ),
        wait,
      )
    })
  }

  async #open(): Promise<void> {
    const bus = this.#bus
    let client = bus.sharesRemote && this.#remote !== undefined ? (await this.#remote.connecting).client : undefined
    if (client === undefined) {
      this.#connection ??= await openRedis(bus.redis)
      client = this.#connection.client
    }
    if (this.#closed) return
    const transport = new RedisStreamTransport(
      client,
      this.#origin,
      { prefix: bus.prefix, retention: bus.retention, commandTimeout: bus.commandTimeout },
      this.#scheduler,
    )
    const resumed = await this.#resume
    if (this.#closed) return
    if (resumed !== undefined) transport.resumeFrom(resumed)
    // Subscribed before it opens: its first messages and states come as soon as it is.
    transport.messages$.subscribe((message) => this.#messages.next(message))
    transport.state$.subscribe((state) => this.#states.next(state))
    await transport.open()
    if (this.#closed) {
      await transport.close()
      return
    }
    this.#current = transport
  }
}
