import type { ClearFollower } from '../coherence/coherence.js'

/**
 * The remote tier's generation as this instance knows it (see scripts.ts: a
 * `clear` starts a new one, and a value's record is named by it), so that a
 * read can name the record itself and fetch it with one plain `HMGET`
 * instead of a script that looks the generation up first.
 *
 * A read on a known generation is never older than what this instance has
 * been told: every clear's invalidation raises it before the local copies
 * are dropped, and every reply of a script (this instance's own writes and
 * clears among them) raises it before the call resolves. It is known only
 * while the bus is connected: a clear made while it is down would pass
 * unseen, so reads go through the script until a reply teaches it again.
 */
export class KnownGeneration implements ClearFollower {
  #current: number | undefined = undefined
  /** The newest clear told by the bus: a reply of a script that ran before it cannot lower the generation below it. */
  #floor = 0
  #live = false

  /** The generation to read under; undefined while unknown (the read runs the script, which says it). */
  get current(): number | undefined {
    return this.#current
  }

  /** A script ran under `generation`. */
  learnt(generation: number): void {
    if (!this.#live) return
    this.#current = Math.max(generation, this.#floor, this.#current ?? 0)
  }

  /** The bus told a clear, whose version is the generation it started. */
  cleared(version: number): void {
    if (version > this.#floor) this.#floor = version
    if (this.#current !== undefined && version > this.#current) this.#current = version
  }

  /** The bus is connected and every clear it missed has been told: the next reply may teach the generation. */
  connected(): void {
    this.#live = true
  }

  /** The bus is down: a clear may go unseen. */
  disconnected(): void {
    this.#live = false
    this.#current = undefined
  }

  /** The bus lost messages (a gap, or Redis lost its data and starts again from generation 0): nothing told before holds. */
  forgetAll(): void {
    this.#current = undefined
    this.#floor = 0
  }
}
