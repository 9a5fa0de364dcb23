import { from, Observable, type ObservableInput, type OperatorFunction, Subject, Subscription } from 'rxjs'
import { CacheError } from '../src/errors.js'

/** What a request whose sender awaits does at a full inbox: wait for room, or fail at once with `E_BACKPRESSURE`. */
export type WhenFull = 'wait' | 'reject'

export interface InboxOptions {
  /** Most requests held at once: waiting their turn, at work, or admitted ahead of their work (`hold`). */
  capacity: number
  /** Most requests at work at once; the others wait their turn in order. */
  concurrency: number
  whenFull: WhenFull
  /** Names the inbox in its errors. */
  name: string
}

/** One request: its work, and whom to tell how it ended. */
export interface Letter<T> {
  work(): ObservableInput<T>
  /** Told once: the work's last value, or why it failed (its error, `E_BACKPRESSURE`, or `E_CLOSED`). */
  done(error: unknown, value: T | undefined): void
  /** Units of capacity the letter gives back when done; the inbox sets it. */
  units: number
}

export interface Inbox {
  /** Units held now: letters waiting their turn or at work, and units taken by `hold`. */
  readonly held: number
  /** Senders waiting for room (`whenFull: 'wait'`): not held, their work not started. */
  readonly waiting: number
  /** Takes one unit for a request that cannot wait (a demotion): false, and nothing taken, when full. */
  hold(): boolean
  /** Takes one unit whatever the bound: for a request that has already been taken and must be paid for. */
  force(): void
  /** Gives back units taken by `hold` or `force`; senders waiting for room move in. */
  release(units: number): void
  /** Puts work whose units are held already (a batch of staged demotions) in line, under the concurrency bound. */
  carry<T>(letter: Letter<T>): void
  /** Admits a request whose sender awaits, or, when full, makes it wait for room or fails it at once with `E_BACKPRESSURE`. */
  ask<T>(letter: Letter<T>): void
  /** Whether a request asked now would be admitted at once. */
  readonly hasRoom: boolean
  /** The error a request refused for a full inbox gets. */
  full(): CacheError
  /** Fails the waiting senders with `E_CLOSED` and stops taking work; work under way ends as it does. */
  close(): void
}

/**
 * A bounded inbox for a tier that does I/O: requests are admitted while
 * fewer than `capacity` are held, and worked on at most `concurrency` at a
 * time (`workConcurrently`, mergeMap's rule), in order. A request is worked on in the call that posts
 * it while under both bounds: no scheduler hop, no timer. The inbox keeps no
 * time of its own; its work's time is the work's (virtual in the marble spec).
 *
 * ```
 * capacity 2, concurrency 1, each work takes 2 frames:
 * ask:      abc        (wait)      (reject)
 * done:     --a-b-c    --a-b-c     #--a-b     c fails at once: E_BACKPRESSURE
 * ```
 */
export function inbox(options: InboxOptions): Inbox {
  const { capacity, concurrency, whenFull } = options
  const letters = new Subject<Letter<unknown>>()
  const waiting: Letter<unknown>[] = []
  let held = 0
  let closed = false

  const admitWaiting = (): void => {
    while (held < capacity && waiting.length > 0) {
      const letter = waiting.shift() as Letter<unknown>
      held++
      letter.units = 1
      letters.next(letter)
    }
  }
  const release = (units: number): void => {
    held -= units
    if (waiting.length > 0) admitWaiting()
  }
  // Told once per letter, however its work ended; the unit it held goes back first.
  const end = (letter: Letter<unknown>, error: unknown, value: unknown): void => {
    const units = letter.units
    letter.units = 0
    if (units !== 0) release(units)
    letter.done(error, error === undefined ? value : undefined)
  }
  const full = (): CacheError => new CacheError('E_BACKPRESSURE', `the ${options.name} inbox is full (${capacity} requests held)`)
  const flow: Subscription = letters.pipe(workConcurrently(concurrency, end)).subscribe()

  return {
    get held() {
      return held
    },
    get waiting() {
      return waiting.length
    },
    get hasRoom() {
      return held < capacity && waiting.length === 0
    },
    full,
    hold() {
      if (closed || held >= capacity) return false
      held++
      return true
    },
    force() {
      held++
    },
    release,
    carry(letter) {
      letter.units = 0
      if (closed) return letter.done(closedError(options.name), undefined)
      letters.next(letter as Letter<unknown>)
    },
    ask(letter) {
      if (closed) return letter.done(closedError(options.name), undefined)
      // Behind senders already waiting: a new one does not overtake them.
      if (held < capacity && waiting.length === 0) {
        held++
        letter.units = 1
        return letters.next(letter as Letter<unknown>)
      }
      if (whenFull === 'reject') {
        letter.units = 0
        return letter.done(full(), undefined)
      }
      letter.units = 0
      waiting.push(letter as Letter<unknown>)
    },
    close() {
      if (closed) return
      closed = true
      const error = closedError(options.name)
      for (const letter of waiting.splice(0)) letter.done(error, undefined)
      letters.complete()
      // Work under way runs to its end; the flow ends with it.
      void flow
    },
  }
}

/**
 * `mergeMap(letter => letter.work(), concurrency)`, ending each letter with
 * `end`: at most `concurrency` works at once, the others wait their turn in
 * order. Work that is a Promise (a disk read: most letters) is settled
 * straight from it, with no Observable, subscriber or teardown of its own;
 * other work is subscribed to as mergeMap would. Emits nothing; completes
 * once its source has and the last work has ended.
 */
function workConcurrently(
  concurrency: number,
  end: (letter: Letter<unknown>, error: unknown, value: unknown) => void,
): OperatorFunction<Letter<unknown>, never> {
  return (source) =>
    new Observable<never>((subscriber) => {
      const queued: (Letter<unknown> | undefined)[] = []
      let next = 0
      let active = 0
      let sourceDone = false
      const works = new Subscription()
      const failed = (error: unknown): unknown => error ?? new Error('the work failed without a reason')
      const finished = (): void => {
        active--
        while (active < concurrency && next < queued.length) {
          const letter = queued[next] as Letter<unknown>
          queued[next++] = undefined
          begin(letter)
        }
        if (next === queued.length) {
          queued.length = 0
          next = 0
        }
        if (sourceDone && active === 0 && queued.length === 0) subscriber.complete()
      }
      const begin = (letter: Letter<unknown>): void => {
        active++
        let work: ObservableInput<unknown>
        try {
          work = letter.work()
        } catch (error) {
          end(letter, error, undefined)
          return finished()
        }
        if (work instanceof Promise) {
          work.then(
            (value: unknown) => {
              if (subscriber.closed) return
              end(letter, undefined, value)
              finished()
            },
            (error: unknown) => {
              if (subscriber.closed) return
              end(letter, failed(error), undefined)
              finished()
            },
          )
          return
        }
        let last: unknown
        let settled = false
        let inner: Subscription | undefined
        const settle = (error: unknown): void => {
          if (settled) return
          settled = true
          if (inner !== undefined) works.remove(inner)
          end(letter, error, last)
          finished()
        }
        inner = from(work).subscribe({
          next: (value) => {
            last = value
          },
          error: (error: unknown) => settle(failed(error)),
          complete: () => settle(undefined),
        })
        if (settled) inner = undefined
        else works.add(inner)
      }
      const input = source.subscribe({
        next: (letter) => {
          if (active < concurrency) begin(letter)
          else queued.push(letter)
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true
          if (active === 0 && queued.length === 0) subscriber.complete()
        },
      })
      return () => {
        input.unsubscribe()
        works.unsubscribe()
      }
    })
}

const closedError = (name: string): CacheError => new CacheError('E_CLOSED', `the ${name} tier is closed`)

/** A request whose sender awaits, as a Promise: its work's last value, or why it failed. */
export function ask<T>(inbox: Inbox, work: () => ObservableInput<T>): Promise<T> {
  return new Promise<T>((resolve, reject) =>
    inbox.ask<T>({ units: 0, work, done: (error, value) => (error === undefined ? resolve(value as T) : reject(error)) }),
  )
}
