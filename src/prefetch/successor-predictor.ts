/**
 * A first-order model of which key follows which: after `A` came `B` twice
 * in a row, so after the next `A`, predict `B`. Remembers at most
 * `maxKeys` predecessors, forgetting the one seen longest ago.
 */
export class SuccessorPredictor {
  readonly #after = new Map<string, { next: string; repeats: number }>()
  readonly #maxKeys: number
  #previous: string | undefined

  constructor(maxKeys = 10_000) {
    this.#maxKeys = maxKeys
  }

  /** Learns that `key` followed the previous access; the key predicted to follow `key`, if any. */
  next(key: string): string | undefined {
    const previous = this.#previous
    this.#previous = key
    if (previous !== undefined && previous !== key) this.#learn(previous, key)
    const successor = this.#after.get(key)
    return successor !== undefined && successor.repeats >= 1 ? successor.next : undefined
  }

  #learn(previous: string, key: string): void {
    const known = this.#after.get(previous)
    if (known !== undefined) {
      known.repeats = known.next === key ? known.repeats + 1 : 0
      known.next = key
      this.#after.delete(previous)
      this.#after.set(previous, known)
      return
    }
    if (this.#after.size >= this.#maxKeys) this.#after.delete(this.#after.keys().next().value as string)
    this.#after.set(previous, { next: key, repeats: 0 })
  }
}
