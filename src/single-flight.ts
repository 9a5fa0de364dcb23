import { CacheError } from './errors.js'

interface Flight<V> {
  readonly promise: Promise<V>
  readonly controller: AbortController
  /** A write or delete of the key came after the flight began: its result must not be stored. */
  superseded: boolean
}

export type Factory<V> = (context: { signal: AbortSignal }) => V | Promise<V>

/**
 * One factory call per key at a time: `getOrSet` callers that arrive while a
 * call runs wait for the same result. A rejection reaches every waiter and
 * stores nothing; the next call starts afresh.
 */
export class SingleFlight<V> {
  readonly #flights = new Map<string, Flight<V>>()
  /** Every flight still running, superseded ones too: close must abort them all. */
  readonly #running = new Set<Flight<V>>()

  /** Whether a call for `key` is running that new callers would join. */
  has(key: string): boolean {
    return this.#flights.has(key)
  }

  run(key: string, factory: Factory<V>, store: (value: V) => void): Promise<V> {
    const running = this.#flights.get(key)
    if (running !== undefined) return running.promise
    const controller = new AbortController()
    const promise = new Promise<V>((resolve, reject) => {
      // Waiters leave at close even if the factory ignores its signal.
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
      const settle = (value: V): void => {
        this.#end(key, flight)
        if (controller.signal.aborted) return
        try {
          if (!flight.superseded) store(value)
        } catch (error) {
          reject(error)
          return
        }
        resolve(value)
      }
      const fail = (error: unknown): void => {
        this.#end(key, flight)
        reject(error)
      }
      try {
        Promise.resolve(factory({ signal: controller.signal })).then(settle, fail)
      } catch (error) {
        queueMicrotask(() => fail(error))
      }
    })
    const flight: Flight<V> = { promise, controller, superseded: false }
    this.#flights.set(key, flight)
    this.#running.add(flight)
    return promise
  }

  /**
   * A newer write of `key` wins over the running factory's result: it will
   * not be stored, and callers from now on start a flight of their own
   * rather than wait for an answer that is already out of date.
   */
  supersede(key: string): void {
    if (this.#flights.size === 0) return
    const flight = this.#flights.get(key)
    if (flight === undefined) return
    flight.superseded = true
    this.#flights.delete(key)
  }

  supersedeAll(): void {
    for (const flight of this.#flights.values()) flight.superseded = true
    this.#flights.clear()
  }

  /** Aborts every running factory; their waiters reject with `E_CLOSED`. */
  abortAll(): void {
    for (const flight of this.#running) {
      flight.controller.abort(new CacheError('E_CLOSED', 'the cache was closed while the factory ran'))
    }
    this.#running.clear()
    this.#flights.clear()
  }

  #end(key: string, flight: Flight<V>): void {
    this.#running.delete(flight)
    if (this.#flights.get(key) === flight) this.#flights.delete(key)
  }
}
