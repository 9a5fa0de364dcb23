/** Keys whose last decoded warm value `peek` keeps. */
export const PEEK_SNAPSHOTS = 256

interface Snapshot<V> {
  slot: number
  stamp: number
  /** The length of the encoding it was decoded from. */
  bytes: number
  value: V
}

/**
 * The value `peek` last decoded for a warm-held key, kept with the slot and
 * stamp of the bytes it came from: warm bumps a slot's stamp on every write
 * and free of it (and keeps it when compaction moves the bytes), so the same
 * slot and stamp mean the same value, and a snapshot stays the same object
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

  /** The value decoded earlier from the bytes the slot held at this stamp, or undefined. */
  get(key: string, slot: number, stamp: number): V | undefined {
    const snapshot = this.#snapshots.get(key)
    if (snapshot === undefined || snapshot.slot !== slot || snapshot.stamp !== stamp) return undefined
    this.#snapshots.delete(key)
    this.#snapshots.set(key, snapshot)
    return snapshot.value
  }

  /** `value` is what the slot holds at `stamp`, `bytes` long encoded. */
  remember(key: string, slot: number, stamp: number, bytes: number, value: V): void {
    const old = this.#snapshots.get(key)
    if (old !== undefined) {
      this.#bytes -= old.bytes
      this.#snapshots.delete(key)
    }
    this.#snapshots.set(key, { slot, stamp, bytes, value })
    this.#bytes += bytes
    while (this.#snapshots.size > 1 && (this.#snapshots.size > PEEK_SNAPSHOTS || this.#bytes > this.#maxBytes)) {
      const [oldestKey, oldest] = this.#snapshots.entries().next().value as [string, Snapshot<V>]
      this.#bytes -= oldest.bytes
      this.#snapshots.delete(oldestKey)
    }
  }
}
