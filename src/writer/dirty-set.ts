import type { WriteOp } from '../options/writer-options.js'

/** A key's last acknowledged op that has not reached the source yet. */
export interface DirtyEntry<V> {
  op: WriteOp<V>
  seq: number
  /** The journal segment that holds the op; -1 without a journal. */
  segment: number
  /** Absolute expiry of a set's value on the scheduler's clock; 0 for none. */
  expiresAt: number
}

/** How a write of a dirty key ended, for the reads that waited for it. */
type Settled = 'written' | 'failed'

/**
 * Dirty ops by key, each holding its value until it is written, so that a
 * dirty entry the tiers have let go (evicted, expired) is still readable and
 * is never lost. Bounded by the writer's `maxDirty`, through the flush flow's
 * reservations.
 */
export class DirtySet<V> {
  readonly #entries = new Map<string, DirtyEntry<V>>()
  readonly #waiters = new Map<string, ((settled: Settled) => void)[]>()

  get size(): number {
    return this.#entries.size
  }

  get(key: string): DirtyEntry<V> | undefined {
    return this.#entries.get(key)
  }

  /** Makes `entry` the key's dirty op; returns the op it replaced. */
  mark(entry: DirtyEntry<V>): DirtyEntry<V> | undefined {
    const replaced = this.#entries.get(entry.op.key)
    this.#entries.set(entry.op.key, entry)
    return replaced
  }

  /** The op of `seq` reached the source: the key is clean unless a later op replaced it. Returns the entry removed. */
  written(key: string, seq: number): DirtyEntry<V> | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined || entry.seq !== seq) return undefined
    this.#entries.delete(key)
    this.#settle(key, 'written')
    return entry
  }

  /** The key's write failed every try: it stays dirty, and reads that waited for it stop waiting. */
  failed(key: string): void {
    this.#settle(key, 'failed')
  }

  /** Resolves 'written' once the key is clean, 'failed' when its write fails for good first. */
  settled(key: string): Promise<Settled> {
    return new Promise((resolve) => {
      const waiting = this.#waiters.get(key)
      if (waiting === undefined) this.#waiters.set(key, [resolve])
      else waiting.push(resolve)
    })
  }

  /** Every waiting read is let go as failed (the cache closes). */
  releaseAll(): void {
    for (const key of [...this.#waiters.keys()]) this.#settle(key, 'failed')
  }

  #settle(key: string, settled: Settled): void {
    const waiting = this.#waiters.get(key)
    if (waiting === undefined) return
    this.#waiters.delete(key)
    for (const resolve of waiting) resolve(settled)
  }
}
