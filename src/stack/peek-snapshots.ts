/** Keys whose last decoded warm value `peek` keeps. */
export const PEEK_SNAPSHOTS = 256

interface Snapshot<V> {
  bytes: Uint8Array
  value: V
}

/**
 * The value `peek` last decoded for a warm-held key, keyed by the identity of
 * the bytes it came from: warm stores a new Buffer whenever a value changes,
 * so the same bytes mean the same value, and a snapshot stays the same object
 * until then (what React's `useSyncExternalStore` asks of a snapshot). Kept
 * for the keys peeked last: at most `PEEK_SNAPSHOTS` of them and `maxBytes`
 * of their encodings, but always the last one, whatever its size.
 */
export class PeekSnapshots<V> {
  // A Map keeps insertion order: re-inserting on use makes its first key the least recently peeked.
  readonly #snapshots = new Map<string, Snapshot<V>>()
  #bytes = 0
  readonly #maxBytes: number

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  /** The value decoded earlier from these very bytes, or undefined. */
  get(key: string, bytes: Uint8Array): V | undefined {
    const snapshot = this.#snapshots.get(key)
    if (snapshot === undefined || snapshot.bytes !== bytes) return undefined
    this.#snapshots.delete(key)
    this.#snapshots.set(key, snapshot)
    return snapshot.value
  }

  remember(key: string, bytes: Uint8Array, value: V): void {
    const old = this.#snapshots.get(key)
    if (old !== undefined) {
      this.#bytes -= old.bytes.byteLength
      this.#snapshots.delete(key)
    }
    this.#snapshots.set(key, { bytes, value })
    this.#bytes += bytes.byteLength
    while (this.#snapshots.size > 1 && (this.#snapshots.size > PEEK_SNAPSHOTS || this.#bytes > this.#maxBytes)) {
      const [oldestKey, oldest] = this.#snapshots.entries().next().value as [string, Snapshot<V>]
      this.#bytes -= oldest.bytes.byteLength
      this.#snapshots.delete(oldestKey)
    }
  }
}
