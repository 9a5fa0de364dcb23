const NO_TAGS: readonly string[] = []

/**
 * Which keys carry which tag, for `deleteByTag`. Empty, and never consulted
 * on the hot path, until the first tagged write. With a cold tier it also
 * holds the tags of entries only the disk holds: they are written into their
 * records and restored from them when the disk opens (see `createLowerTiers`).
 */
export class TagIndex {
  readonly #keysByTag = new Map<string, Set<string>>()
  readonly #tagsByKey = new Map<string, readonly string[]>()

  get size(): number {
    return this.#tagsByKey.size
  }

  /** Replaces the tags of `key`. */
  set(key: string, tags: readonly string[] | undefined): void {
    if (this.#tagsByKey.size !== 0) this.remove(key)
    if (tags === undefined || tags.length === 0) return
    this.#tagsByKey.set(key, tags)
    for (const tag of tags) {
      let keys = this.#keysByTag.get(tag)
      if (keys === undefined) this.#keysByTag.set(tag, (keys = new Set()))
      keys.add(key)
    }
  }

  remove(key: string): void {
    if (this.#tagsByKey.size === 0) return
    const tags = this.#tagsByKey.get(key)
    if (tags === undefined) return
    this.#tagsByKey.delete(key)
    for (const tag of tags) {
      const keys = this.#keysByTag.get(tag)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.#keysByTag.delete(tag)
    }
  }

  /** The key's tags, undefined when it has none. */
  tagsOf(key: string): readonly string[] | undefined {
    return this.#tagsByKey.size === 0 ? undefined : this.#tagsByKey.get(key)
  }

  keysOf(tag: string): readonly string[] {
    const keys = this.#keysByTag.get(tag)
    return keys === undefined ? NO_TAGS : [...keys]
  }

  clear(): void {
    this.#keysByTag.clear()
    this.#tagsByKey.clear()
  }
}
