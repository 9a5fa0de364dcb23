import { Observable, Subject } from 'rxjs'
import type { CacheEvent } from './events.js'

/**
 * Where events go. `listening` is a plain field, kept by counting
 * subscriptions, because it is read on every hit: while it is false, no event
 * object is built at all.
 */
export class EventBus {
  listening = false
  readonly events$: Observable<CacheEvent>
  readonly #subject = new Subject<CacheEvent>()
  #listeners = 0

  constructor() {
    this.events$ = new Observable<CacheEvent>((subscriber) => {
      const subscription = this.#subject.subscribe(subscriber)
      this.listening = ++this.#listeners > 0
      return () => {
        subscription.unsubscribe()
        this.listening = --this.#listeners > 0
      }
    })
  }

  emit(event: CacheEvent): void {
    this.#subject.next(event)
  }

  complete(): void {
    this.#subject.complete()
  }
}
