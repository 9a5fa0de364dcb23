import type { Inbox } from '../../../streams/inbox.js'
import type { LowerEntry } from '../lower-tier.js'

/**
 * Entries on their way to the disk: readable here until their batch is
 * written, so that an entry is never in no tier while it moves down. Each
 * holds one unit of the tier's inbox until it leaves, so that staged
 * entries and queued requests together stay within the inbox's capacity;
 * their bytes are bounded too.
 */
export class Staging {
  readonly #entries = new Map<string, LowerEntry>()
  #bytes = 0
  readonly #maxBytes: number
  readonly #inbox: Inbox

  constructor(maxBytes: number, inbox: Inbox) {
    this.#maxBytes = maxBytes
    this.#inbox = inbox
  }

  get size(): number {
    return this.#entries.size
  }

  get bytes(): number {
    return this.#bytes
  }

  get(key: string): LowerEntry | undefined {
    return this.#entries.get(key)
  }

  has(key: string): boolean {
    return this.#entries.has(key)
  }

  values(): IterableIterator<LowerEntry> {
    return this.#entries.values()
  }

  /** Stages within the bounds (a demotion: it cannot wait); false, and nothing staged, past them. */
  take(entry: LowerEntry): boolean {
    if (this.#bytes + entry.stored.byteLength > this.#maxBytes) return false
    const old = this.#entries.get(entry.key)
    if (old === undefined && !this.#inbox.hold()) return false
    this.#replace(old, entry)
    return true
  }

  /** Stages whatever the bounds: for entries a caller waits on (a checkpoint's batch, a value too large for memory). */
  force(entry: LowerEntry): void {
    const old = this.#entries.get(entry.key)
    if (old === undefined) this.#inbox.force()
    this.#replace(old, entry)
  }

  /** Drops the key's staged entry, if any. */
  remove(key: string): boolean {
    const staged = this.#entries.get(key)
    if (staged === undefined) return false
    this.#entries.delete(key)
    this.#bytes -= staged.stored.byteLength
    this.#inbox.release(1)
    return true
  }

  clear(): void {
    const units = this.#entries.size
    this.#entries.clear()
    this.#bytes = 0
    this.#inbox.release(units)
  }

  #replace(old: LowerEntry | undefined, entry: LowerEntry): void {
    if (old !== undefined) this.#bytes -= old.stored.byteLength
    this.#entries.set(entry.key, entry)
    this.#bytes += entry.stored.byteLength
  }
}
