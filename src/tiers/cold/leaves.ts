import type { ColdLeaveReason } from './cold-index.js'

/** A value the store let go, judged at the end of the run. */
interface Leave {
  reason: ColdLeaveReason
  tagged: boolean
}

/**
 * Values the store let go, judged once the current run is over: a store
 * call can notice one in the middle of a move (a demotion asks the store
 * whether it holds the key before staging it), and by then the key is
 * staged, masked, on disk anew, or really gone. An untagged value that
 * expired or was found corrupt concerns no one: dropped at once.
 */
export class Leaves {
  #leaving: Map<string, Leave> | undefined
  readonly #stillHere: (key: string) => boolean
  readonly #gone: (key: string, reason: ColdLeaveReason) => void

  constructor(stillHere: (key: string) => boolean, gone: (key: string, reason: ColdLeaveReason) => void) {
    this.#stillHere = stillHere
    this.#gone = gone
  }

  leave(key: string, reason: ColdLeaveReason, tagged: boolean): void {
    if (!tagged && reason !== 'evicted') return
    if (this.#leaving === undefined) {
      this.#leaving = new Map()
      queueMicrotask(() => this.#judge())
    }
    this.#leaving.set(key, { reason, tagged })
  }

  #judge(): void {
    const leaving = this.#leaving as Map<string, Leave>
    this.#leaving = undefined
    for (const [key, leave] of leaving) if (!this.#stillHere(key)) this.#gone(key, leave.reason)
  }
}
