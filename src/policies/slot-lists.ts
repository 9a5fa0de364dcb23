const NIL = 0xffffffff

/**
 * Several doubly linked lists threaded through the same slot numbers, in
 * typed arrays: a slot is in at most one list at a time. The caller says
 * which list a slot is in, so that whole lists can be spliced in O(1).
 */
export class SlotLists {
  #prev: Uint32Array
  #next: Uint32Array
  readonly #head: Uint32Array
  readonly #tail: Uint32Array

  constructor(lists: number, capacity: number) {
    this.#head = new Uint32Array(lists).fill(NIL)
    this.#tail = new Uint32Array(lists).fill(NIL)
    this.#prev = new Uint32Array(capacity)
    this.#next = new Uint32Array(capacity)
  }

  grow(capacity: number): void {
    if (capacity <= this.#prev.length) return
    const prev = new Uint32Array(capacity)
    const next = new Uint32Array(capacity)
    prev.set(this.#prev)
    next.set(this.#next)
    this.#prev = prev
    this.#next = next
  }

  /** The oldest slot of a list, or -1. */
  head(list: number): number {
    const head = this.#head[list]
    return head === NIL ? -1 : head
  }

  pushTail(list: number, slot: number): void {
    const tail = this.#tail[list]
    this.#prev[slot] = tail
    this.#next[slot] = NIL
    if (tail === NIL) this.#head[list] = slot
    else this.#next[tail] = slot
    this.#tail[list] = slot
  }

  unlink(list: number, slot: number): void {
    const prev = this.#prev[slot]
    const next = this.#next[slot]
    if (prev === NIL) this.#head[list] = next
    else this.#next[prev] = next
    if (next === NIL) this.#tail[list] = prev
    else this.#prev[next] = prev
  }

  moveToTail(list: number, slot: number): void {
    if (this.#tail[list] === slot) return
    this.unlink(list, slot)
    this.pushTail(list, slot)
  }

  /** Moves every slot of `from` behind the tail of `to`, in order. */
  append(from: number, to: number): void {
    const head = this.#head[from]
    if (head === NIL) return
    const tail = this.#tail[to]
    if (tail === NIL) this.#head[to] = head
    else {
      this.#next[tail] = head
      this.#prev[head] = tail
    }
    this.#tail[to] = this.#tail[from]
    this.#head[from] = NIL
    this.#tail[from] = NIL
  }

  clear(): void {
    this.#head.fill(NIL)
    this.#tail.fill(NIL)
  }
}
