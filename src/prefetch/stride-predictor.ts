const TRAILING_NUMBER = /^(.*?)(\d+)$/

/**
 * Keys that end in a number walked in steps (`page:10`, `page:12`,
 * `page:14`, …): once the same step has been seen twice in a row under one
 * prefix, predicts the next key. Remembers at most `maxPrefixes` prefixes,
 * forgetting the one used longest ago.
 */
export class StridePredictor {
  readonly #walks = new Map<string, { last: number; step: number; repeats: number }>()
  readonly #maxPrefixes: number

  constructor(maxPrefixes = 1024) {
    this.#maxPrefixes = maxPrefixes
  }

  /** Learns from an access; the key predicted to come next, if any. */
  next(key: string): string | undefined {
    const match = TRAILING_NUMBER.exec(key)
    if (match === null) return undefined
    const [, prefix, digits] = match as unknown as [string, string, string]
    const n = Number(digits)
    if (!Number.isSafeInteger(n)) return undefined
    const walk = this.#walks.get(prefix)
    if (walk === undefined) {
      this.#remember(prefix, { last: n, step: 0, repeats: 0 })
      return undefined
    }
    const step = n - walk.last
    walk.repeats = step !== 0 && step === walk.step ? walk.repeats + 1 : 0
    walk.step = step
    walk.last = n
    this.#remember(prefix, walk)
    if (walk.repeats < 1 || n + step < 0) return undefined
    // Keep zero padding: `img007` walks to `img008`, not `img8`.
    const next = String(n + step)
    return prefix + (digits.length > next.length && digits.startsWith('0') ? next.padStart(digits.length, '0') : next)
  }

  #remember(prefix: string, walk: { last: number; step: number; repeats: number }): void {
    this.#walks.delete(prefix)
    if (this.#walks.size >= this.#maxPrefixes) this.#walks.delete(this.#walks.keys().next().value as string)
    this.#walks.set(prefix, walk)
  }
}
