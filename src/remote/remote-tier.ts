import type { SchedulerLike } from 'rxjs'
import type { LocalVersions } from '../coherence/local-versions.js'
import type { ColdTierStats } from '../observe/stats.js'
import type { LowerEntry, LowerTier, LowerTierExits, Refusal } from '../tiers/lower-tier.js'
import type { RemoteLink } from './remote-link.js'
import type { RemoteValue } from './remote-store.js'

/**
 * The remote tier as the stack reads it: the last tier before the loader.
 * It takes no evictions (every write went to Redis already, see
 * `SharedWrites`), and a failed read is a miss that degrades it. Each value
 * read tells `versions` the version of the copy it brings up.
 */
export class RemoteTier implements LowerTier {
  readonly name = 'remote'
  readonly takesEvictions = false
  readonly ready: Promise<void>
  readonly #link: RemoteLink
  readonly #versions: LocalVersions
  readonly #scheduler: SchedulerLike
  #open = false
  #hits = 0

  constructor(link: RemoteLink, exits: LowerTierExits, versions: LocalVersions, scheduler: SchedulerLike) {
    this.#link = link
    this.#versions = versions
    this.#scheduler = scheduler
    link.failed = (error) => exits.failed(error)
    this.ready = link.opened.then(() => {
      this.#open = true
    })
  }

  get isOpen(): boolean {
    return this.#open
  }

  holds(): boolean {
    return false
  }

  fits(): boolean {
    return true
  }

  async read(key: string): Promise<LowerEntry | undefined> {
    const parts = this.#link.parts
    if (parts === undefined) return undefined
    try {
      return this.#entry(key, await parts.store.get(key))
    } catch (error) {
      this.#link.fault(error, `reading '${key}'`)
      return undefined
    }
  }

  async readMany(keys: readonly string[]): Promise<(LowerEntry | undefined)[]> {
    const parts = this.#link.parts
    if (parts === undefined) return new Array<undefined>(keys.length).fill(undefined)
    try {
      const found = await parts.store.getMany(keys)
      return found.map((value, i) => this.#entry(keys[i], value))
    } catch (error) {
      this.#link.fault(error, `reading ${keys.length} keys`)
      return new Array<undefined>(keys.length).fill(undefined)
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.read(key)) !== undefined
  }

  demote(): Refusal | undefined {
    return undefined
  }

  put(): Refusal | undefined {
    return undefined
  }

  checkRoom(): void {}

  mask(): void {}

  released(): void {}

  invalidate(): undefined {
    return undefined
  }

  async clear(): Promise<void> {}

  async checkpoint(): Promise<void> {}

  async probe(): Promise<void> {
    await this.#link.probe()
    this.#open = true
  }

  async close(): Promise<void> {}

  stats(): ColdTierStats {
    return { entries: 0, bytes: 0, diskBytes: 0, hits: this.#hits, state: 'ok' }
  }

  #entry(key: string, value: RemoteValue | undefined): LowerEntry | undefined {
    if (value === undefined) return undefined
    this.#hits++
    this.#versions.record(key, value.version)
    return { key, stored: value.bytes, expiresAt: value.ttl === 0 ? 0 : this.#scheduler.now() + value.ttl }
  }
}
