/** Slots as `SlotTable` hands them out: a free stack, and capacity doubling with `grow` first. */
export class Slots {
  #free: number[] = []
  #next = 0
  constructor(
    private capacity: number,
    private readonly grow: (capacity: number) => void,
  ) {}

  allocate(): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    if (this.#next === this.capacity) this.grow((this.capacity *= 2))
    return this.#next++
  }

  release(slot: number): void {
    this.#free.push(slot)
  }
}
