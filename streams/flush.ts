import { asyncScheduler, Observable, type SchedulerLike, Subscription } from 'rxjs'

export interface FlushOptions {
  /** Most ops in one write. */
  batchSize: number
  /** Ms the oldest dirty op may wait before a batch leaves. */
  flushInterval: number
  /** Most dirty keys (queued, in flight, and reserved by writes on their way in) at once. */
  maxDirty: number
  /** Past `maxDirty`: a reservation waits for room (and a batch leaves at once), or is refused. */
  onFull: 'wait' | 'reject'
  /** Tries of one batch (the first included), and the bounds of the backoff between them. */
  retry: { attempts: number; baseDelay: number; maxDelay: number }
  /** Jitter's source, a number in [0, 1); injected so that schedules are deterministic in tests. Default Math.random. */
  random?: () => number
}

/** A key's last op since it was last written: `seq` is the op's, `first` the oldest coalesced into it. */
export interface Dirty<T> {
  op: T
  seq: number
  first: number
}

export type FlushInput<T> =
  /** A durable op; `reserved`: it takes the room its writer reserved. Its `seq` is above every earlier op's. */
  | { type: 'op'; op: T; seq: number; reserved: boolean }
  /** Asks for room for one op: answered `room` or `full` with the same id. */
  | { type: 'reserve'; id: number }
  /** Gives back room reserved for an op that will not come (its journal write failed). */
  | { type: 'release' }
  /** Asks for every op dirty now to be written: answered `flushed` or `flush-failed` with the same id. */
  | { type: 'flush'; id: number }

export type FlushOutput<T> =
  | { type: 'written'; batch: readonly Dirty<T>[]; ms: number }
  /** An op replaced the key's op that was waiting: only the last is written. */
  | { type: 'coalesced'; key: string }
  | { type: 'retry'; batch: readonly Dirty<T>[]; attempt: number; delay: number; error: unknown }
  /** The batch failed `attempts` times: its ops stay dirty and are tried again after `flushInterval`. */
  | { type: 'failed'; batch: readonly Dirty<T>[]; error: unknown }
  | { type: 'room'; id: number }
  | { type: 'full'; id: number }
  | { type: 'flushed'; id: number }
  | { type: 'flush-failed'; id: number; error: unknown }

interface Pending<T> extends Dirty<T> {
  /** When the key became dirty (or its failed batch came back), on the scheduler's clock. */
  since: number
}

interface FlushRequest {
  id: number
  /** The highest seq at the request: an op of a higher `first` came later. */
  upTo: number
  /** Dirty ops (queued or in flight) of `first` <= upTo not written yet. */
  remaining: number
}

/** The wait before try `attempt + 1`: exponential, capped, with equal jitter (in [cap / 2, cap]). */
export function backoff(attempt: number, retry: FlushOptions['retry'], random: () => number): number {
  const cap = Math.min(retry.maxDelay, retry.baseDelay * 2 ** (attempt - 1))
  return cap / 2 + random() * (cap / 2)
}

/**
 * The write-back flow: takes durable ops, keeps only each key's last one
 * (coalescing), and writes them in batches of at most `batchSize`, one batch
 * at a time, so that a key's ops reach the source in order. A batch leaves
 * when `flushInterval` has passed since the oldest waiting op, when
 * `batchSize` ops wait, or at once while a flush is asked for, a reservation
 * waits for room, or the input has completed. A failed batch is tried again
 * after a jittered exponential backoff; past `retry.attempts` it is reported
 * (`failed`) and its ops wait for the next interval: no op is dropped.
 * Completes, once the input has, when nothing waits and nothing is in flight,
 * or when the last batch failed. Every timer runs on `scheduler`.
 *
 * ```
 * batchSize 2, flushInterval 3, writes take 1:
 * input:   -a-a-bc-----
 * writes:  ----[a]--[b,c]-
 * output:  ---C-W----W-   C = coalesced a, W = written
 * ```
 */
export function flush<T extends { key: string }>(
  input$: Observable<FlushInput<T>>,
  write: (ops: readonly T[]) => Observable<unknown>,
  options: FlushOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<FlushOutput<T>> {
  const random = options.random ?? Math.random
  return new Observable<FlushOutput<T>>((subscriber) => {
    const pending = new Map<string, Pending<T>>()
    // The waiting keys, oldest first: a queue beside the Map, since iterating a Map from its start walks every
    // entry deleted there before (100,000 dirty keys flushed in batches of 500 made that quadratic).
    let queue: string[] = []
    let head = 0
    const enqueue = (key: string, entry: Pending<T>): void => {
      pending.set(key, entry)
      queue.push(key)
    }
    let inFlight: Pending<T>[] | undefined
    let inFlightKeys = new Set<string>()
    /** In-flight keys with no newer op waiting: dirty, though not in `pending`. */
    let inFlightOnly = 0
    let reserved = 0
    const waiting: number[] = []
    const requests: FlushRequest[] = []
    let maxSeq = 0
    let closing = false
    /** No batch starts before this time: the interval after a batch failed for good. */
    let restUntil = Number.NEGATIVE_INFINITY
    let timer: Subscription | undefined
    let timerDue = Number.NaN
    let busy: Subscription | undefined
    const held = new Subscription()

    const dirtyCount = (): number => pending.size + inFlightOnly
    const urgent = (): boolean => closing || requests.length > 0 || waiting.length > 0

    const cancelTimer = (): void => {
      timer?.unsubscribe()
      timer = undefined
      timerDue = Number.NaN
    }

    const arm = (due: number): void => {
      if (timer !== undefined && timerDue === due) return
      cancelTimer()
      timerDue = due
      timer = scheduler.schedule(
        () => {
          timer = undefined
          timerDue = Number.NaN
          schedule()
        },
        Math.max(0, due - scheduler.now()),
      )
      held.add(timer)
    }

    /** Starts the next batch if one is due, or arms the timer for when it will be; completes when closing and done. */
    const schedule = (): void => {
      if (inFlight !== undefined || busy !== undefined || subscriber.closed) return
      if (pending.size === 0) {
        cancelTimer()
        if (closing) subscriber.complete()
        return
      }
      const now = scheduler.now()
      if (now < restUntil) return arm(restUntil)
      const oldest = pending.get(queue[head] as string) as Pending<T>
      if (urgent() || pending.size >= options.batchSize || now >= oldest.since + options.flushInterval) {
        cancelTimer()
        return start()
      }
      arm(oldest.since + options.flushInterval)
    }

    const start = (): void => {
      const batch: Pending<T>[] = []
      while (batch.length < options.batchSize && head < queue.length) {
        const key = queue[head++] as string
        batch.push(pending.get(key) as Pending<T>)
        pending.delete(key)
      }
      if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head)
        head = 0
      }
      inFlight = batch
      inFlightKeys = new Set(batch.map((entry) => entry.op.key))
      inFlightOnly = batch.length
      attempt(batch, 1)
    }

    const attempt = (batch: Pending<T>[], n: number): void => {
      const began = scheduler.now()
      const ops = batch.map((entry) => entry.op)
      const current = new Subscription()
      busy = current
      held.add(current)
      let failed = false
      current.add(
        write(ops).subscribe({
          error: (error: unknown) => {
            failed = true
            if (busy === current) busy = undefined
            held.remove(current)
            failure(batch, n, error)
          },
          complete: () => {
            if (failed) return
            if (busy === current) busy = undefined
            held.remove(current)
            success(batch, scheduler.now() - began)
          },
        }),
      )
    }

    const success = (batch: Pending<T>[], ms: number): void => {
      inFlight = undefined
      inFlightKeys = new Set()
      inFlightOnly = 0
      subscriber.next({ type: 'written', batch: batch.map(dirtyOf), ms })
      for (let i = 0; i < requests.length; i++) {
        const request = requests[i]
        for (const entry of batch) if (entry.first <= request.upTo) request.remaining--
        if (request.remaining <= 0) {
          requests.splice(i--, 1)
          subscriber.next({ type: 'flushed', id: request.id })
        }
      }
      grant()
      schedule()
    }

    const failure = (batch: Pending<T>[], n: number, error: unknown): void => {
      if (n < options.retry.attempts) {
        const delay = backoff(n, options.retry, random)
        subscriber.next({ type: 'retry', batch: batch.map(dirtyOf), attempt: n, delay, error })
        const wait = scheduler.schedule(() => {
          held.remove(wait)
          busy = undefined
          attempt(batch, n + 1)
        }, delay)
        busy = wait
        held.add(wait)
        return
      }
      inFlight = undefined
      inFlightKeys = new Set()
      inFlightOnly = 0
      const now = scheduler.now()
      restUntil = now + options.flushInterval
      // Back in the queue, behind what waits already; a newer op of the key keeps its place and takes the older `first`.
      for (const entry of batch) {
        const newer = pending.get(entry.op.key)
        if (newer !== undefined) newer.first = Math.min(newer.first, entry.first)
        else enqueue(entry.op.key, { ...entry, since: now })
      }
      subscriber.next({ type: 'failed', batch: batch.map(dirtyOf), error })
      for (let i = 0; i < requests.length; i++) {
        const request = requests[i]
        if (batch.some((entry) => entry.first <= request.upTo)) {
          requests.splice(i--, 1)
          subscriber.next({ type: 'flush-failed', id: request.id, error })
        }
      }
      // At close, one round of tries: what it could not write stays dirty for the next open.
      if (closing) return subscriber.complete()
      schedule()
    }

    /** Gives room to waiting reservations while there is some. */
    const grant = (): void => {
      while (waiting.length > 0 && dirtyCount() + reserved < options.maxDirty) {
        reserved++
        subscriber.next({ type: 'room', id: waiting.shift() as number })
      }
    }

    const take = (input: FlushInput<T>): void => {
      switch (input.type) {
        case 'op': {
          if (input.reserved) reserved--
          if (input.seq > maxSeq) maxSeq = input.seq
          const key = input.op.key
          const queued = pending.get(key)
          if (queued !== undefined) {
            queued.op = input.op
            queued.seq = input.seq
            subscriber.next({ type: 'coalesced', key })
          } else {
            enqueue(key, { op: input.op, seq: input.seq, first: input.seq, since: scheduler.now() })
            if (inFlightKeys.has(key)) inFlightOnly--
          }
          return schedule()
        }
        case 'reserve':
          if (dirtyCount() + reserved < options.maxDirty) {
            reserved++
            return subscriber.next({ type: 'room', id: input.id })
          }
          if (options.onFull === 'reject') return subscriber.next({ type: 'full', id: input.id })
          waiting.push(input.id)
          return schedule()
        case 'release':
          reserved--
          return grant()
        case 'flush': {
          const remaining = pending.size + (inFlight?.length ?? 0)
          if (remaining === 0) return subscriber.next({ type: 'flushed', id: input.id })
          requests.push({ id: input.id, upTo: maxSeq, remaining })
          // A flush asked for after a failure does not wait for the rest of the interval.
          restUntil = Number.NEGATIVE_INFINITY
          return schedule()
        }
      }
    }

    held.add(
      input$.subscribe({
        next: take,
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          closing = true
          restUntil = Number.NEGATIVE_INFINITY
          schedule()
        },
      }),
    )
    return held
  })
}

const dirtyOf = <T>(entry: Pending<T>): Dirty<T> => ({ op: entry.op, seq: entry.seq, first: entry.first })
