interface Kept {
  value: unknown
  bytes: Uint8Array
}

/**
 * The bytes a value read from a lower tier came up with, kept while it is in
 * hot, so that when hot lets it go warm takes those bytes instead of an
 * encoding of the value (8-12 µs for msgpack and LZ4 on 1 KiB). Keyed by the
 * key and checked against the value's identity, so a key written since never
 * finds the older bytes. Bounded in bytes: past `maxBytes` the oldest go, and
 * those values are encoded again when they leave hot, as any other.
 */
export class KeptBytes {
  // A Map keeps insertion order: its first key is the oldest kept.
  readonly #kept = new Map<string, Kept>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  get size(): number {
    return this.#kept.size
  }

  keep(key: string, value: unknown, bytes: Uint8Array): void {
    this.forget(key)
    this.#kept.set(key, { value, bytes })
    this.#bytes += bytes.byteLength
    while (this.#bytes > this.#maxBytes && this.#kept.size > 0) {
      const [oldestKey, oldest] = this.#kept.entries().next().value as [string, Kept]
      this.#bytes -= oldest.bytes.byteLength
      this.#kept.delete(oldestKey)
    }
  }

  /** The bytes kept for this very value of the key, given up: the value is leaving hot. */
  take(key: string, value: unknown): Uint8Array | undefined {
    const kept = this.#kept.get(key)
    if (kept === undefined) return undefined
    this.#bytes -= kept.bytes.byteLength
    this.#kept.delete(key)
    return kept.value === value ? kept.bytes : undefined
  }

  forget(key: string): void {
    const kept = this.#kept.get(key)
    if (kept === undefined) return
    this.#bytes -= kept.bytes.byteLength
    this.#kept.delete(key)
  }

  clear(): void {
    this.#kept.clear()
    this.#bytes = 0
  }
}
