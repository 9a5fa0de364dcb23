import { Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs'

// Node holds a timer for at most this long: a longer delay fires after 1 ms (with a TimeoutOverflowWarning).
const MAX_TIMER_DELAY = 2 ** 31 - 1

interface KeyWatch<V> {
  readonly subscribers: Set<Subscriber<V | undefined>>
  /** Subscribers that have not had their first value yet: the key's value is being read from disk. */
  readonly waiting: Set<Subscriber<V | undefined>>
  last: V | undefined
  /** Counts changes: a disk read that a change overtook is out of date. */
  changes: number
  loading: boolean
  expiry: Subscription | undefined
}

export interface WatchSource<V> {
  /** The key's value now, read without touching recency; undefined when absent. */
  current(key: string): V | undefined
  /** The key's absolute expiry, 0 for none. */
  expiryOf(key: string): number
  /** Called when a watched entry's expiry has come: drop it if it is really due. */
  due(key: string): void
  /** The key's value from disk, when memory does not hold it; absent without a disk tier. */
  load?(key: string): Promise<V | undefined>
}

/**
 * The subscribers of `watch(key)`, grouped by key. Told of every change of a
 * key's value (not of moves between tiers), it passes on only values that
 * differ from the last one (`Object.is`). A watched key with an expiry gets
 * one timer on the scheduler, so that its subscribers hear of the expiry when
 * it happens rather than at the next sweep.
 */
export class Watchers<V> {
  readonly #byKey = new Map<string, KeyWatch<V>>()
  readonly #source: WatchSource<V>
  readonly #scheduler: SchedulerLike
  #completed = false

  constructor(source: WatchSource<V>, scheduler: SchedulerLike) {
    this.#source = source
    this.#scheduler = scheduler
  }

  watch(key: string): Observable<V | undefined> {
    return new Observable<V | undefined>((subscriber) => {
      if (this.#completed) return subscriber.complete()
      let watch = this.#byKey.get(key)
      if (watch === undefined) {
        watch = { subscribers: new Set(), waiting: new Set(), last: this.#source.current(key), changes: 0, loading: false, expiry: undefined }
        this.#byKey.set(key, watch)
        this.#armExpiry(key, watch, this.#source.expiryOf(key))
        if (watch.last === undefined && this.#source.load !== undefined) this.#load(key, watch, this.#source.load)
      }
      if (watch.loading) watch.waiting.add(subscriber)
      else {
        watch.subscribers.add(subscriber)
        subscriber.next(watch.last)
      }
      return () => {
        watch.subscribers.delete(subscriber)
        watch.waiting.delete(subscriber)
        if (watch.subscribers.size === 0 && watch.waiting.size === 0 && this.#byKey.get(key) === watch) {
          watch.expiry?.unsubscribe()
          this.#byKey.delete(key)
        }
      }
    })
  }

  /** The key's value is now `value` (undefined: gone), expiring at `expiresAt` (0: never). */
  changed(key: string, value: V | undefined, expiresAt: number): void {
    // Every write calls this: with nothing watched it costs one size check.
    if (this.#byKey.size === 0) return
    const watch = this.#byKey.get(key)
    if (watch === undefined) return
    this.#armExpiry(key, watch, value === undefined ? 0 : expiresAt)
    watch.changes++
    if (Object.is(watch.last, value)) return
    watch.last = value
    for (const subscriber of watch.subscribers) subscriber.next(value)
  }

  /** Whether anyone watches the key. */
  watching(key: string): boolean {
    return this.#byKey.has(key)
  }

  /** Every watched key is now absent. */
  cleared(): void {
    for (const key of [...this.#byKey.keys()]) this.changed(key, undefined, 0)
  }

  /** Completes every watch, and every one subscribed from now on at once. */
  complete(): void {
    this.#completed = true
    const watches = [...this.#byKey.values()]
    this.#byKey.clear()
    for (const watch of watches) {
      watch.expiry?.unsubscribe()
      for (const subscriber of [...watch.subscribers, ...watch.waiting]) subscriber.complete()
    }
  }

  /**
   * Reads a key that memory does not hold from disk before its first
   * subscribers hear anything: they wait, then get the value read, unless a
   * change came meanwhile (then they get that).
   */
  #load(key: string, watch: KeyWatch<V>, load: (key: string) => Promise<V | undefined>): void {
    watch.loading = true
    const changesBefore = watch.changes
    const settle = (value: V | undefined): void => {
      if (this.#byKey.get(key) !== watch) return
      watch.loading = false
      if (watch.changes === changesBefore && value !== undefined) {
        watch.last = value
        this.#armExpiry(key, watch, this.#source.expiryOf(key))
      }
      for (const subscriber of watch.waiting) {
        watch.subscribers.add(subscriber)
        subscriber.next(watch.last)
      }
      watch.waiting.clear()
    }
    load(key).then(settle, () => settle(undefined))
  }

  #armExpiry(key: string, watch: KeyWatch<V>, expiresAt: number): void {
    watch.expiry?.unsubscribe()
    watch.expiry = undefined
    if (expiresAt === 0) return
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, expiresAt - this.#scheduler.now()))
    watch.expiry = this.#scheduler.schedule(() => {
      watch.expiry = undefined
      this.#source.due(key)
      if (this.#byKey.get(key) !== watch || watch.expiry !== undefined || watch.last === undefined) return
      // An entry kept past its expiry as a stale value (for read-through) is not dropped, but it is gone to watchers.
      if (this.#source.current(key) === undefined) return this.changed(key, undefined, 0)
      // A timer may fire before the clock reaches the expiry (by a little, or by design when the delay was cut to
      // what Node can hold): look again then.
      this.#armExpiry(key, watch, this.#source.expiryOf(key))
    }, delay)
  }
}
