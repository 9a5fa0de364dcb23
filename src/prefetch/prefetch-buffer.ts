/**
 * Entries loaded ahead of their use. They wait here, outside every tier, so
 * a wrong guess never pushes out an entry that was really used: at most
 * `capacity` wait, the oldest giving way to the newest. A read takes its
 * entry out (to be stored in hot); a write or delete of the key drops it.
 *
 * `left` hears how each entry left: used (taken by a read) or not (pushed
 * out unread, or dropped as stale). `clear()` tells nothing: emptying the
 * cache says nothing about the guesses.
 */
export class PrefetchBuffer<V> {
  readonly #entries = new Map<string, V>()
  readonly #capacity: number
  readonly #left: ((key: string, used: boolean) => void) | undefined
  /** Entries that left unread: wrong or late guesses. */
  wasted = 0

  constructor(capacity: number, left?: (key: string, used: boolean) => void) {
    this.#capacity = capacity
    this.#left = left
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
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
      this.wasted++
      this.#left?.(oldest, false)
    }
    this.#entries.set(key, value)
  }

  /** The entry, taken out; undefined when none waits. */
  take(key: string): V | undefined {
    const value = this.#entries.get(key)
    if (value === undefined) return undefined
    this.#entries.delete(key)
    this.#left?.(key, true)
    return value
  }

  /** The key was written or deleted: its entry, if one waits, is stale. */
  drop(key: string): void {
    if (!this.#entries.delete(key)) return
    this.wasted++
    this.#left?.(key, false)
  }

  clear(): void {
    this.#entries.clear()
  }
}
