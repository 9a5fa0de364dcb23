import { CacheError } from '../errors.js'
import { enter, leave, within } from './flight-scope.js'

interface Flight<V> {
  readonly promise: Promise<V>
  /** Made only when the factory reads its signal: most never do (a disk read, say). */
  controller: AbortController | undefined
  /** Rejects the waiters at close, whatever the factory does with its signal. */
  abort: (reason: CacheError) => void
  /** Why it was aborted (closed), once it was. */
  aborted: CacheError | undefined
  /** A write or delete of the key came after the flight began: its result must not be stored. */
  superseded: boolean
}

export type Factory<V> = (context: { signal: AbortSignal }) => V | Promise<V>

export interface SingleFlightOptions {
  /**
   * Reject a call for a key from inside that key's own factory (through any
   * awaits, or through other keys' factories) with `E_REENTRANT`: joining
   * would wait for itself forever. Off for flights whose work never calls
   * back into the cache, since tracking what runs inside a factory has a cost.
   */
  guardReentry?: boolean
}

/**
 * One factory call per key at a time: `getOrSet` callers that arrive while a
 * call runs wait for the same result. A rejection reaches every waiter and
 * stores nothing; the next call starts afresh. Once closed, no factory runs.
 */
export class SingleFlight<V> {
  readonly #flights = new Map<string, Flight<V>>()
  /** Every flight still running, superseded ones too: close must abort them all. */
  readonly #running = new Set<Flight<V>>()
  readonly #guarded: boolean
  #closed: CacheError | undefined

  constructor(options: SingleFlightOptions = {}) {
    this.#guarded = options.guardReentry ?? false
  }

  /** Whether a call for `key` is running that new callers would join. */
  has(key: string): boolean {
    return this.#flights.has(key)
  }

  run(key: string, factory: Factory<V>, store: (value: V) => void): Promise<V> {
    const running = this.#flights.get(key)
    if (running !== undefined) {
      if (this.#guarded && within(running)) {
        return Promise.reject(new CacheError('E_REENTRANT', `a call for '${key}' made inside its own factory or loader would wait for itself`))
      }
      return running.promise
    }
    // A caller that waited for the disk before coming here may find the cache closed meanwhile.
    if (this.#closed !== undefined) return Promise.reject(this.#closed)
    let settle!: (value: V) => void
    let fail!: (error: unknown) => void
    let abort!: (reason: CacheError) => void
    const promise = new Promise<V>((resolve, reject) => {
      abort = (reason: CacheError): void => {
        flight.aborted = reason
        flight.controller?.abort(reason)
        reject(reason)
      }
      settle = (value: V): void => {
        this.#end(key, flight)
        if (flight.aborted !== undefined) return
        try {
          if (!flight.superseded) store(value)
        } catch (error) {
          reject(error)
          return
        }
        resolve(value)
      }
      fail = (error: unknown): void => {
        this.#end(key, flight)
        reject(error)
      }
    })
    const flight: Flight<V> = { promise, controller: undefined, abort, aborted: undefined, superseded: false }
    this.#flights.set(key, flight)
    this.#running.add(flight)
    const context = {
      get signal(): AbortSignal {
        if (flight.controller === undefined) {
          flight.controller = new AbortController()
          if (flight.aborted !== undefined) flight.controller.abort(flight.aborted)
        }
        return flight.controller.signal
      },
    }
    const call = (): V | Promise<V> => factory(context)
    try {
      Promise.resolve(this.#guarded ? enter(flight, call) : call()).then(settle, fail)
    } catch (error) {
      queueMicrotask(() => fail(error))
    }
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

  /** Aborts every running factory (their waiters reject with `E_CLOSED`) and starts none from now on. */
  close(): void {
    this.#closed = new CacheError('E_CLOSED', 'the cache is closed')
    const aborted = new CacheError('E_CLOSED', 'the cache was closed while the factory ran')
    for (const flight of this.#running) {
      flight.abort(aborted)
      if (this.#guarded) leave()
    }
    this.#running.clear()
    this.#flights.clear()
  }

  #end(key: string, flight: Flight<V>): void {
    // After close, a factory that ignored its signal ends too late to matter.
    if (!this.#running.delete(flight)) return
    if (this.#guarded) leave()
    if (this.#flights.get(key) === flight) this.#flights.delete(key)
  }
}
