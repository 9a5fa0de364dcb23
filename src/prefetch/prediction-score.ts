export interface PredictionScoreOptions {
  /** Verdicts the accuracy is taken over: the last this many. Default 64. */
  window?: number
  /** Held predictions followed at once (the size of the prefetch buffer they would have waited in). Default 64. */
  shadowCapacity?: number
}

/**
 * How often loads ahead are of use, judged on their outcomes; the accuracy
 * is over the last `window` verdicts.
 *
 * - A load ahead is **right** when a read took its value (from the prefetch
 *   buffer, or by waiting for the load under way), and **wrong** when its
 *   value left the buffer unread (pushed out by newer ones), was dropped as
 *   stale (its key written or deleted before it was read), or never came
 *   (the loader failed, or found nothing), so that the key's read went to
 *   the loader after all. The owner of the buffer and of the loads reports
 *   these through `judge`. A load still under way, or a value still
 *   waiting, has no verdict yet; nor do those dropped by `clear()`: the
 *   cache was emptied, the guess was not proven wrong.
 * - While loading is paused, predictions are **held**: not loaded, but
 *   followed in a shadow of the buffer (`shadowCapacity` keys, oldest out
 *   first) and judged as the buffer would judge their loads: right when the
 *   key is read while its prediction waits there, wrong when it is pushed
 *   out by newer held predictions or its key is written first. So a pause
 *   ends once predictions would be used again: without this, a paused
 *   predictor would make no loads, get no verdicts, and never resume.
 */
export class PredictionScore {
  readonly #verdicts: Uint8Array
  #judged = 0
  #right = 0
  /** Held predictions, oldest first. */
  readonly #shadow = new Set<string>()
  readonly #shadowCapacity: number

  constructor(options: PredictionScoreOptions = {}) {
    this.#verdicts = new Uint8Array(options.window ?? 64)
    this.#shadowCapacity = options.shadowCapacity ?? 64
  }

  /** Right over judged, among the last `window` verdicts; 1 before any. */
  get accuracy(): number {
    const judged = Math.min(this.#judged, this.#verdicts.length)
    return judged === 0 ? 1 : this.#right / judged
  }

  /** Verdicts so far: too few and the accuracy means little. */
  get judged(): number {
    return this.#judged
  }

  /** Held predictions waiting for their verdict. */
  get holding(): number {
    return this.#shadow.size
  }

  /** The outcome of a load ahead: its value was used (true) or wasted (false). */
  judge(right: boolean): void {
    const at = this.#judged % this.#verdicts.length
    if (this.#judged >= this.#verdicts.length) this.#right -= this.#verdicts[at]
    this.#verdicts[at] = right ? 1 : 0
    if (right) this.#right++
    this.#judged++
  }

  /** A prediction not loaded (loading is paused): judged as if it waited in the buffer. */
  held(key: string): void {
    if (this.#shadow.has(key)) return
    if (this.#shadow.size >= this.#shadowCapacity) {
      this.#shadow.delete(this.#shadow.values().next().value as string)
      this.judge(false)
    }
    this.#shadow.add(key)
  }

  /** A load ahead starts for the key: that load's outcome, not a held prediction, is its verdict. */
  loading(key: string): void {
    if (this.#shadow.size !== 0) this.#shadow.delete(key)
  }

  /** A read: a held prediction of its key comes true. */
  accessed(key: string): void {
    if (this.#shadow.size !== 0 && this.#shadow.delete(key)) this.judge(true)
  }

  /** The key was written or deleted: a held prediction of it would have been stale. */
  written(key: string): void {
    if (this.#shadow.size !== 0 && this.#shadow.delete(key)) this.judge(false)
  }

  /** The cache was emptied: held predictions go without a verdict. */
  cleared(): void {
    this.#shadow.clear()
  }
}
