import { BehaviorSubject, type Observable, Subject } from 'rxjs'
import { CacheError } from '../errors.js'
import { type Invalidation, type Transport, type TransportState, decodeInvalidation, encodeInvalidation } from './invalidation.js'

/**
 * Invalidations over a `BroadcastChannel`: between worker threads of one
 * process, or tabs of one browser. Nothing is kept for an instance that
 * was not listening, and nothing is lost while it listens: it is always
 * `connected`. Messages travel as the stream's field list, so a message
 * from another version or a stray post is checked the same way.
 */
export class BroadcastTransport implements Transport {
  readonly messages$: Observable<Invalidation>
  readonly state$: Observable<TransportState>
  readonly #channel: InstanceType<typeof BroadcastChannel>
  readonly #origin: string
  readonly #messages = new Subject<Invalidation>()
  readonly #states = new BehaviorSubject<TransportState>({ state: 'connected' })
  #closed = false

  constructor(channel: string, origin: string) {
    this.#origin = origin
    this.#channel = new BroadcastChannel(channel)
    this.#channel.onmessage = (event: MessageEvent) => {
      const data: unknown = event.data
      if (!Array.isArray(data) || !data.every((field) => typeof field === 'string')) return
      const message = decodeInvalidation(data)
      if (message !== undefined && message.origin !== this.#origin) this.#messages.next(message)
    }
    this.messages$ = this.#messages.asObservable()
    this.state$ = this.#states.asObservable()
  }

  async publish(message: Invalidation): Promise<void> {
    if (this.#closed) throw new CacheError('E_CLOSED', 'the bus is closed')
    this.#channel.postMessage(encodeInvalidation(message))
  }

  /** Closes the channel: no handle is left to hold a process open. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#channel.close()
    this.#messages.complete()
    this.#states.complete()
  }
}
