import { type SchedulerLike, asyncScheduler } from 'rxjs'

/** Versions per millisecond: room for that many writes in one tick before the clock runs ahead of time. */
const TICKS_PER_MS = 1024

/**
 * Versions for a cache with no remote tier (no Redis counter to take them
 * from): a hybrid logical clock. A version is the scheduler's time in
 * 1/1024 ms, or one past the last version made or observed when that is
 * greater, so versions only grow even if the clock steps back, and a
 * version made after observing another instance's is greater than it.
 */
export class VersionClock {
  readonly #scheduler: SchedulerLike
  #last = 0

  constructor(scheduler: SchedulerLike = asyncScheduler) {
    this.#scheduler = scheduler
  }

  next(): number {
    this.#last = Math.max(Math.floor(this.#scheduler.now()) * TICKS_PER_MS, this.#last + 1)
    return this.#last
  }

  /** Takes in a version seen in another instance's message. */
  observe(version: number): void {
    if (Number.isSafeInteger(version) && version > this.#last) this.#last = version
  }
}
