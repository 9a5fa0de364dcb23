/** Removes `item` from `list` if there; true if it was. */
export function take<T>(list: T[], item: T): boolean {
  const at = list.indexOf(item)
  if (at < 0) return false
  list.splice(at, 1)
  return true
}

/**
 * ARC(c) as printed in the paper (Fig. 4), one `request(x)` at a time, on
 * keys: four arrays with the LRU end first. Returns the key that left the
 * cache, if one did.
 */
export class PaperArc {
  t1: number[] = []
  t2: number[] = []
  b1: number[] = []
  b2: number[] = []
  p = 0
  constructor(readonly c: number) {}

  request(x: number): number | undefined {
    const { c } = this
    // Case I: a hit.
    if (take(this.t1, x) || take(this.t2, x)) {
      this.t2.push(x)
      return undefined
    }
    // Case II: a ghost in B1.
    if (this.b1.includes(x)) {
      const delta = this.b1.length >= this.b2.length ? 1 : this.b2.length / this.b1.length
      this.p = Math.min(this.p + delta, c)
      const victim = this.#replace(x)
      take(this.b1, x)
      this.t2.push(x)
      return victim
    }
    // Case III: a ghost in B2.
    if (this.b2.includes(x)) {
      const delta = this.b2.length >= this.b1.length ? 1 : this.b1.length / this.b2.length
      this.p = Math.max(this.p - delta, 0)
      const victim = this.#replace(x)
      take(this.b2, x)
      this.t2.push(x)
      return victim
    }
    // Case IV: a miss in all four lists.
    let victim: number | undefined
    const total = this.t1.length + this.t2.length + this.b1.length + this.b2.length
    if (this.t1.length + this.b1.length === c) {
      if (this.t1.length < c) {
        this.b1.shift()
        victim = this.#replace(x)
      } else victim = this.t1.shift()
    } else if (total >= c) {
      if (total === 2 * c) this.b2.shift()
      victim = this.#replace(x)
    }
    this.t1.push(x)
    return victim
  }

  #replace(x: number): number {
    const t1 = this.t1.length
    if (t1 >= 1 && ((this.b2.includes(x) && t1 === this.p) || t1 > this.p)) {
      const victim = this.t1.shift() as number
      this.b1.push(victim)
      return victim
    }
    const victim = this.t2.shift() as number
    this.b2.push(victim)
    return victim
  }
}
