/**
 * Entries loaded ahead of their use. They wait here, outside every tier, so
 * a wrong guess never pushes out an entry that was really used: at most
 * `capacity` wait, the oldest giving way to the newest. A read takes its
 * entry out (to be stored in hot); a write or delete of the key drops it.
 */
export class PrefetchBuffer<V> {
  readonly #entries = new Map<string, V>()
  readonly #capacity: number
  /** Entries that left unread: wrong or late guesses. */
  wasted = 0

  constructor(capacity: number) {
    this.#capacity = capacity
  }

  get size(): number {
    return this.#entries.size
  }

  has(key: string): boolean {
    return this.#entries.has(key)
  }

  put(key: string, value: V): void {
    this.#entries.delete(key)
    if (this.#entries.size >= this.#capacity) {
      this.#entries.delete(this.#entries.keys().next().value as string)
      this.wasted++
    }
    this.#entries.set(key, value)
  }

  /** The entry, taken out; undefined when none waits. */
  take(key: string): V | undefined {
    const value = this.#entries.get(key)
    if (value !== undefined) this.#entries.delete(key)
    return value
  }

  drop(key: string): void {
    this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}
