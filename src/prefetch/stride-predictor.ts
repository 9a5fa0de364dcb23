const TRAILING_NUMBER = /^(.*?)(\d+)$/

/** One walk through the numbers under a prefix. */
interface Walk {
  last: number
  step: number
  /** How many times in a row the walk moved by `step`. */
  repeats: number
}

/**
 * Keys that end in a number walked in steps (`page:10`, `page:12`,
 * `page:14`, …): once a walk has moved by the same step twice in a row,
 * predicts its next key. Like a hardware stream prefetcher, it follows
 * several walks per prefix at once, so that callers walking the same key
 * space side by side do not break each other's walks: an access continues
 * the walk it lands next to (within `maxStep`), or starts a new one in place
 * of the walk least recently moved. Remembers at most `maxPrefixes` prefixes
 * and `walksPerPrefix` walks under each.
 */
export class StridePredictor {
  readonly #walks = new Map<string, Walk[]>()
  readonly #maxPrefixes: number
  readonly #walksPerPrefix: number
  readonly #maxStep: number

  constructor(options: { maxPrefixes?: number; walksPerPrefix?: number; maxStep?: number } = {}) {
    this.#maxPrefixes = options.maxPrefixes ?? 1024
    this.#walksPerPrefix = options.walksPerPrefix ?? 8
    this.#maxStep = options.maxStep ?? 64
  }

  /** Learns from an access; the key predicted to come next, if any. */
  next(key: string): string | undefined {
    const match = TRAILING_NUMBER.exec(key)
    if (match === null) return undefined
    const prefix = match[1] as string
    const digits = match[2] as string
    const n = Number(digits)
    if (!Number.isSafeInteger(n)) return undefined
    const walks = this.#walksOf(prefix)
    const walk = this.#continued(walks, n)
    if (walk === undefined) {
      if (walks.length >= this.#walksPerPrefix) walks.shift()
      walks.push({ last: n, step: 0, repeats: 0 })
      return undefined
    }
    const step = n - walk.last
    walk.repeats = step !== 0 && step === walk.step ? walk.repeats + 1 : 0
    walk.step = step
    walk.last = n
    // Most recently moved last: the one to give way is at the front.
    walks.splice(walks.indexOf(walk), 1)
    walks.push(walk)
    if (walk.repeats < 1 || n + step < 0) return undefined
    // Keep zero padding: `img007` walks to `img008`, not `img8`.
    const next = String(n + step)
    return prefix + (digits.length > next.length && digits.startsWith('0') ? next.padStart(digits.length, '0') : next)
  }

  /** The walk `n` continues: one whose step lands on it, else the nearest within `maxStep`. */
  #continued(walks: Walk[], n: number): Walk | undefined {
    let nearest: Walk | undefined
    let distance = this.#maxStep + 1
    for (const walk of walks) {
      if (walk.step !== 0 && walk.last + walk.step === n) return walk
      const d = Math.abs(n - walk.last)
      if (d !== 0 && d < distance) {
        nearest = walk
        distance = d
      }
    }
    return nearest
  }

  #walksOf(prefix: string): Walk[] {
    let walks = this.#walks.get(prefix)
    if (walks !== undefined) {
      this.#walks.delete(prefix)
    } else {
      if (this.#walks.size >= this.#maxPrefixes) this.#walks.delete(this.#walks.keys().next().value as string)
      walks = []
    }
    this.#walks.set(prefix, walks)
    return walks
  }
}
