import { type EvictionPolicy, NO_SLOT } from './policy.js'

const NIL = 0xffffffff

/**
 * SIEVE (Zhang et al., NSDI '24): one FIFO queue with new entries at the
 * head, and a visited bit per entry that a hit sets; a hit never reorders.
 * The hand walks from the tail toward the head: a visited entry loses its bit
 * and stays where it is, the first unvisited one is evicted, and the hand
 * stays at the victim's newer neighbour for the next eviction (at the tail
 * again when the victim was the head). Survivors thus gather behind the
 * hand, and entries inserted since are sifted first.
 *
 * Memory: 9 bytes per slot (two Uint32 links and a Uint8 visited bit).
 */
// `Omit<…, 'name'>` only while `PolicyName` lacks 'sieve'; otherwise this is an `EvictionPolicy`.
export class SievePolicy implements EvictionPolicy {
  readonly name = 'sieve'
  readonly usesKeyHashes = false
  /** Toward the head (the paper's `prev`): the direction the hand moves. */
  #newer: Uint32Array
  /** Toward the tail. */
  #older: Uint32Array
  #visited: Uint8Array
  #head = NIL
  #tail = NIL
  #hand = NIL

  /** `maxEntries` is accepted for a uniform constructor; SIEVE does not depend on it. */
  constructor(capacity: number, _maxEntries: number = Infinity) {
    this.#newer = new Uint32Array(capacity)
    this.#older = new Uint32Array(capacity)
    this.#visited = new Uint8Array(capacity)
  }

  /** The slot the next eviction looks at first, or -1 when it starts at the tail; for tests. */
  get hand(): number {
    return this.#hand === NIL ? NO_SLOT : this.#hand
  }

  grow(capacity: number): void {
    if (capacity <= this.#visited.length) return
    const newer = new Uint32Array(capacity)
    const older = new Uint32Array(capacity)
    const visited = new Uint8Array(capacity)
    newer.set(this.#newer)
    older.set(this.#older)
    visited.set(this.#visited)
    this.#newer = newer
    this.#older = older
    this.#visited = visited
  }

  insert(slot: number): void {
    this.#visited[slot] = 0
    this.#newer[slot] = NIL
    this.#older[slot] = this.#head
    if (this.#head === NIL) this.#tail = slot
    else this.#newer[this.#head] = slot
    this.#head = slot
  }

  touch(slot: number): void {
    this.#visited[slot] = 1
  }

  remove(slot: number): void {
    // The hand goes on to the entry it would have looked at after this one.
    if (this.#hand === slot) this.#hand = this.#newer[slot]
    this.#unlink(slot)
  }

  evict(): number {
    let slot = this.#hand === NIL ? this.#tail : this.#hand
    if (slot === NIL) return NO_SLOT
    // Ends within one lap: every bit passed is cleared.
    while (this.#visited[slot] === 1) {
      this.#visited[slot] = 0
      slot = this.#newer[slot]
      if (slot === NIL) slot = this.#tail
    }
    this.#hand = this.#newer[slot]
    this.#unlink(slot)
    return slot
  }

  miss(): void {}

  #unlink(slot: number): void {
    const newer = this.#newer[slot]
    const older = this.#older[slot]
    if (newer === NIL) this.#head = older
    else this.#older[newer] = older
    if (older === NIL) this.#tail = newer
    else this.#newer[older] = newer
  }
}
