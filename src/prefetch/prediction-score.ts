/**
 * How often predictions come true. A prediction is judged right when its key
 * is accessed within `horizon` accesses of being made, wrong otherwise; the
 * accuracy is over the last `window` judgements. Predictions made while
 * loading is paused are judged the same way, so a predictor can earn its way
 * back.
 */
export class PredictionScore {
  readonly #open = new Map<string, number>()
  readonly #verdicts: Uint8Array
  #judged = 0
  #right = 0
  #accesses = 0
  readonly #horizon: number

  constructor(window = 64, horizon = 1000) {
    this.#verdicts = new Uint8Array(window)
    this.#horizon = horizon
  }

  /** Right over judged, among the last `window` judgements; 1 before any. */
  get accuracy(): number {
    const judged = Math.min(this.#judged, this.#verdicts.length)
    return judged === 0 ? 1 : this.#right / judged
  }

  /** Judgements so far: too few and the accuracy means little. */
  get judged(): number {
    return this.#judged
  }

  predicted(key: string): void {
    if (!this.#open.has(key)) this.#open.set(key, this.#accesses)
  }

  /** An access: judges its own prediction right, and predictions past the horizon wrong. */
  accessed(key: string): boolean {
    this.#accesses++
    const madeAt = this.#open.get(key)
    if (madeAt !== undefined) {
      this.#open.delete(key)
      this.#judge(true)
    }
    // Map order is the order predictions were made: the expired ones are at its front.
    for (const [open, at] of this.#open) {
      if (this.#accesses - at <= this.#horizon) break
      this.#open.delete(open)
      this.#judge(false)
    }
    return madeAt !== undefined
  }

  #judge(right: boolean): void {
    const at = this.#judged % this.#verdicts.length
    if (this.#judged >= this.#verdicts.length) this.#right -= this.#verdicts[at]
    this.#verdicts[at] = right ? 1 : 0
    if (right) this.#right++
    this.#judged++
  }
}
