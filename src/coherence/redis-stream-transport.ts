import { Observable, ReplaySubject, type SchedulerLike, Subject, type Subscription, asyncScheduler } from 'rxjs'
import { reconnectWithBackoff } from '../../streams/bus-reconnect.js'
import { CacheError, asCacheError } from '../errors.js'
import type { RedisClient } from '../remote/redis-client.js'
import type { BusPosition } from './bus-position.js'
import { remoteError } from '../remote/redis-client.js'
import { type Invalidation, STREAM_FIELDS, type Transport, type TransportState, decodeInvalidation, encodeInvalidation } from './invalidation.js'
import { ReadDeadline, callWithin, settleWithin } from './redis-deadline.js'
import { type StreamEntry, compareStreamIds, infoField, rangeEntries, readEntries } from './stream-replies.js'

export interface RedisStreamTransportOptions {
  /** Prefix of the bus's keys (`<prefix>bus`, `<prefix>epoch`); the remote tier's scripts write to the same stream. */
  prefix: string
  /** Ms an invalidation stays in the stream for an instance that reconnects: `publish` trims older ones. */
  retention: number
  /** Ms each Redis call may take; a blocking read may take `block` more. */
  commandTimeout: number
  /** Ms each `XREAD BLOCK` waits on the server for new entries. Default 1000. */
  block?: number
}

/** Entries read per `XREAD` and per `XRANGE` page of a replay. */
const PAGE = 512
const PAGE_COUNT = String(PAGE)
/** After a failure: a new connection after 50 ms, doubling while attempts fail, at most 1 s apart. */
const RECONNECT = { firstDelay: 50, maxDelay: 1000 }
const NO_ENTRY = '0-0'

type Call = <T>(args: readonly string[], ms?: number) => Promise<T>

/** What `XINFO STREAM` says, read in one reply. */
interface StreamInfo {
  lastGenerated: string
  maxDeleted: string
  /** Entries ever added (Redis 7). */
  added: number
  length: number
  firstId: string | undefined
}

/**
 * Invalidations on a Redis Stream (`<prefix>bus`), read by a loop of
 * `XREAD BLOCK` on a connection of its own, named `strata-bus:<origin>`.
 *
 * A read that fails or gets no reply within `block + commandTimeout` (a
 * partition holds traffic without an error) makes the state
 * `disconnected`; new connections follow with backoff. Back, it checks
 * what it missed: if `<prefix>epoch` changed (the server lost its data) or
 * the stream was trimmed past the last entry seen, `resynced` with `gap`;
 * else it replays the entries after the last one seen, then `resynced`
 * with their count. Needs Redis 7 (`XINFO STREAM` reports `entries-added`).
 *
 * Stream ids are the server's clock and `publish` trims by the
 * scheduler's: an instance whose clock runs ahead of the server's keeps
 * less than `retention`.
 */
export class RedisStreamTransport implements Transport {
  readonly messages$: Observable<Invalidation>
  readonly state$: Observable<TransportState>
  readonly #client: RedisClient
  readonly #origin: string
  readonly #options: Required<RedisStreamTransportOptions>
  readonly #scheduler: SchedulerLike
  readonly #messages = new Subject<Invalidation>()
  readonly #states = new ReplaySubject<TransportState>(1)
  #state: TransportState['state'] | undefined
  #epoch: string | undefined
  #lastId = NO_ENTRY
  /** How many entries the stream had added up to `#lastId`: its `entries-added` then. */
  #seen = 0
  /** Messages replayed since the last disconnect, by sessions that may have failed before telling `resynced`. */
  #replayed = 0
  #sessions: Subscription | undefined
  #abandonOpen: ((error: unknown) => void) | undefined
  #closed = false

  constructor(client: RedisClient, origin: string, options: RedisStreamTransportOptions, scheduler: SchedulerLike = asyncScheduler) {
    this.#client = client
    this.#origin = origin
    this.#options = { block: 1000, ...options }
    for (const name of ['retention', 'commandTimeout', 'block'] as const) {
      const value = this.#options[name]
      if (!Number.isFinite(value) || value <= 0) throw new CacheError('E_INVALID_OPTIONS', `bus ${name} must be a positive number of ms, got ${value}`)
    }
    this.#scheduler = scheduler
    this.messages$ = this.#messages.asObservable()
    this.state$ = this.#states.asObservable()
  }

  /**
   * Where reading stands now; undefined before the first connection. Every
   * message before it has been emitted.
   */
  get position(): BusPosition | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch, lastId: this.#lastId, seen: this.#seen }
  }

  /**
   * Before `open`: the first connection carries on from `position` (where an
   * earlier life of this instance stopped), as a reconnection does: it
   * replays what was added since, or reports a gap.
   */
  resumeFrom(position: BusPosition): void {
    if (this.#sessions !== undefined) throw new CacheError('E_INVALID_OPTIONS', 'the bus is already open')
    this.#epoch = position.epoch
    this.#lastId = position.lastId
    this.#seen = position.seen
  }

  /** Connects, and starts reading from the stream's end. Rejects with `E_REMOTE` if the first connection fails; nothing is left open then. */
  open(): Promise<void> {
    if (this.#closed) return Promise.reject(new CacheError('E_CLOSED', 'the bus is closed'))
    if (this.#sessions !== undefined) return Promise.reject(new CacheError('E_INVALID_OPTIONS', 'the bus is already open'))
    return new Promise<void>((resolve, reject) => {
      this.#abandonOpen = reject
      const sessions$ = reconnectWithBackoff(() => this.#session(), { ...RECONNECT, failed: (error) => this.#lost(error) }, this.#scheduler)
      this.#sessions = sessions$.subscribe({
        next: (state) => {
          this.#setState(state)
          this.#abandonOpen = undefined
          resolve()
        },
        error: (error: unknown) => {
          this.#abandonOpen = undefined
          reject(asCacheError(error, 'E_REMOTE', 'the bus could not connect'))
          void this.close()
        },
      })
    })
  }

  /** Appends the message to the stream, trimming what is older than the retention. */
  async publish(message: Invalidation): Promise<void> {
    if (this.#closed) throw new CacheError('E_CLOSED', 'the bus is closed')
    const oldest = Math.max(0, Math.floor(this.#scheduler.now()) - this.#options.retention)
    const args = ['XADD', this.#key('bus'), 'MINID', '~', `${oldest}-0`, '*', ...encodeInvalidation(message)]
    await callWithin(this.#client, args, this.#options.commandTimeout, this.#scheduler)
  }

  /** Ends the reading loop and its connection; the streams complete. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#abandonOpen?.(new CacheError('E_CLOSED', 'the bus was closed while it connected'))
    this.#sessions?.unsubscribe()
    this.#messages.complete()
    this.#states.complete()
  }

  /** One connection's life: catch up, tell the state, then read until something fails. */
  #session(): Observable<TransportState> {
    return new Observable<TransportState>((subscriber) => {
      const connection = this.#client.duplicate()
      connection.on('error', ignore) // every failure also rejects the command under way, which ends the session
      let ended = false
      const { commandTimeout, block } = this.#options
      const call: Call = (args, ms = commandTimeout) => callWithin(connection, args, ms, this.#scheduler)
      const run = async (): Promise<void> => {
        await settleWithin(connection.connect(), commandTimeout, this.#scheduler, 'connecting the bus')
        await call(['CLIENT', 'SETNAME', `strata-bus:${this.#origin.replace(/[^!-~]/g, '_')}`])
        const state = await this.#catchUp(call, () => ended)
        if (ended) return
        subscriber.next(state)
        const reads = new ReadDeadline(block + commandTimeout, this.#scheduler, (error) => {
          if (!ended) subscriber.error(error)
        })
        stopReads = () => reads.stop()
        const blockMs = String(block)
        const bus = this.#key('bus')
        while (!ended) {
          reads.started()
          const reply = await connection.sendCommand(['XREAD', 'BLOCK', blockMs, 'COUNT', PAGE_COUNT, 'STREAMS', bus, this.#lastId])
          reads.answered()
          if (!ended) this.#deliver(readEntries(reply))
        }
      }
      let stopReads = (): void => undefined
      run().catch((error: unknown) => {
        if (!ended) subscriber.error(error instanceof CacheError ? error : remoteError('XREAD failed', error))
      })
      return () => {
        ended = true
        stopReads()
        connection.destroy()
      }
    })
  }

  /** What a new connection reports: `connected` the first time, else what was replayed or lost meanwhile. */
  async #catchUp(call: Call, ended: () => boolean): Promise<TransportState> {
    const epoch = await this.#readEpoch(call)
    const stream = await this.#streamInfo(call)
    const first = this.#epoch === undefined
    const gap = !first && (epoch !== this.#epoch || this.#trimmedPastLastSeen(stream))
    if (first || gap) {
      // Taken only now: a session that fails before this point finds the same gap next time.
      this.#epoch = epoch
      this.#lastId = stream?.lastGenerated ?? NO_ENTRY
      this.#seen = stream?.added ?? 0
      return first ? { state: 'connected' } : this.#resynced(true)
    }
    for (;;) {
      const page = rangeEntries(await call(['XRANGE', this.#key('bus'), `(${this.#lastId}`, '+', 'COUNT', String(PAGE)]))
      if (ended()) break
      this.#replayed += this.#deliver(page)
      if (page.length < PAGE) break
    }
    return this.#resynced(false)
  }

  #resynced(gap: boolean): TransportState {
    const replayed = this.#replayed
    this.#replayed = 0
    return { state: 'resynced', replayed, gap }
  }

  /** The server's epoch: set by whoever finds none, so a server that lost its data has a new one. */
  async #readEpoch(call: Call): Promise<string> {
    await call(['SET', this.#key('epoch'), globalThis.crypto.randomUUID(), 'NX'])
    return String(await call(['GET', this.#key('epoch')]))
  }

  async #streamInfo(call: Call): Promise<StreamInfo | undefined> {
    try {
      const info = await call(['XINFO', 'STREAM', this.#key('bus')])
      const first = infoField(info, 'first-entry')
      return {
        lastGenerated: String(infoField(info, 'last-generated-id')),
        maxDeleted: String(infoField(info, 'max-deleted-entry-id') ?? NO_ENTRY),
        added: Number(infoField(info, 'entries-added')),
        length: Number(infoField(info, 'length')),
        firstId: Array.isArray(first) ? String(first[0]) : undefined,
      }
    } catch (error) {
      if (/no such key/i.test(String((error as Error).cause))) return undefined
      throw error
    }
  }

  /**
   * Entries added after the last one seen are gone: trimmed from the head
   * (what is left after it is fewer than were added since), deleted
   * (`XDEL`), or the stream was deleted and made again.
   */
  #trimmedPastLastSeen(stream: StreamInfo | undefined): boolean {
    if (stream === undefined) return this.#seen > 0 || this.#lastId !== NO_ENTRY
    if (compareStreamIds(stream.lastGenerated, this.#lastId) < 0 || !(stream.added >= this.#seen)) return true
    if (compareStreamIds(stream.maxDeleted, this.#lastId) > 0) return true
    const headPastLastSeen = stream.firstId === undefined || compareStreamIds(stream.firstId, this.#lastId) > 0
    return headPastLastSeen && stream.length < stream.added - this.#seen
  }

  /** Emits the messages of other origins among `entries`, in order, and counts them. */
  #deliver(entries: readonly StreamEntry[]): number {
    let delivered = 0
    for (const [id, fields] of entries) {
      this.#lastId = id
      this.#seen++
      // This instance's own writes come back too: dropped before their keys are parsed.
      if (fields[0] === STREAM_FIELDS.origin && fields[1] === this.#origin) continue
      const message = decodeInvalidation(fields)
      if (message === undefined || message.origin === this.#origin) continue
      delivered++
      this.#messages.next(message)
    }
    return delivered
  }

  #lost(error: unknown): void {
    // A first connection that fails fails `open`; later ones are retried.
    if (this.#state === undefined) throw error
    if (this.#state !== 'disconnected') this.#setState({ state: 'disconnected' })
  }

  #setState(state: TransportState): void {
    this.#state = state.state
    this.#states.next(state)
  }

  #key(name: string): string {
    return `${this.#options.prefix}${name}`
  }
}

const ignore = (): void => undefined
