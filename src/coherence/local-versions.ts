/** How many keys' versions are remembered at most: past it the oldest are forgotten (a forgotten key's copy is dropped by any invalidation of it). */
const MAX_REMEMBERED = 1 << 20

/**
 * The version of each local copy, as far as this instance knows it: a
 * late or duplicate invalidation (one whose version is not above it) leaves
 * the copy. Lossy by design: a key not remembered counts as version 0, so
 * every invalidation of it drops the copy, which is always safe.
 *
 * It also holds the keys with a remote write under way, and the newest
 * invalidation of each seen meanwhile: a write that Redis ordered before
 * another instance's must not install its value here after that one's
 * invalidation has passed.
 */
export class LocalVersions {
  readonly #versions = new Map<string, number>()
  readonly #pending = new Map<string, { writes: number; newest: number }>()
  /** The newest `all` seen while any write was pending. */
  #newestAll = 0

  of(key: string): number {
    return this.#versions.get(key) ?? 0
  }

  /** The local copy of `key` is at least `version` now. */
  record(key: string, version: number): void {
    const known = this.#versions.get(key)
    if (known !== undefined && known >= version) return
    if (known === undefined && this.#versions.size >= MAX_REMEMBERED) {
      const oldest = this.#versions.keys().next().value as string
      this.#versions.delete(oldest)
    }
    this.#versions.set(key, version)
  }

  forget(key: string): void {
    this.#versions.delete(key)
  }

  forgetAll(): void {
    this.#versions.clear()
  }

  /** A remote write of `key` starts. */
  begin(key: string): void {
    const pending = this.#pending.get(key)
    if (pending !== undefined) pending.writes++
    else this.#pending.set(key, { writes: 1, newest: 0 })
  }

  /** It ended: the newest invalidation of the key seen while it ran (0 for none). */
  end(key: string): number {
    const pending = this.#pending.get(key)
    if (pending === undefined) return 0
    if (--pending.writes === 0) this.#pending.delete(key)
    const newest = Math.max(pending.newest, this.#newestAll)
    if (this.#pending.size === 0) this.#newestAll = 0
    return newest
  }

  /** An invalidation of `key` at `version` arrived. */
  invalidated(key: string, version: number): void {
    const pending = this.#pending.get(key)
    if (pending !== undefined && version > pending.newest) pending.newest = version
  }

  /** An invalidation of every key at `version` arrived. */
  invalidatedAll(version: number): void {
    if (this.#pending.size > 0 && version > this.#newestAll) this.#newestAll = version
    this.#versions.clear()
  }
}
