/** What a read may find: a version of the key's value, or nothing. */
export type Outcome = number | 'absent'

/** A write the model knows of; expiry as an interval, since a real clock is read somewhere between two instants. */
export interface ModelEntry {
  version: number
  /** 0 for none; else the earliest and latest the cache may have computed. */
  expiresFrom: number
  expiresTo: number
  tags: readonly string[]
}

/** When a read happened: the cache read its clock somewhere between the two. */
export interface Instant {
  from: number
  to: number
}

/**
 * The cache as a Map: key -> its last acknowledged write, and the keys the
 * cache reported as gone for room (evicted), which may then read as absent.
 * Every answer is a set of allowed outcomes: one, unless an expiry falls in
 * the uncertainty of a real clock or the key was reported evicted.
 */
export class Model {
  readonly entries = new Map<string, ModelEntry>()
  readonly evicted = new Set<string>()
  /** On a failing disk: any entry may have been lost (but never replaced by an older or wrong value). */
  lossy = false
  /**
   * Entries of before a clear the disk refused: that clear emptied memory and
   * hid them in the process, but the disk still holds them, so a restart may
   * bring them back (docs/cold-tier.md, Faults), until the key is written or
   * deleted anew. A delete by tag does not reach them: their tags went with
   * the clear.
   */
  readonly ghosts = new Map<string, ModelEntry>()

  set(key: string, entry: ModelEntry): void {
    this.entries.set(key, entry)
    this.evicted.delete(key)
    this.ghosts.delete(key)
  }

  remove(key: string): void {
    this.entries.delete(key)
    this.evicted.delete(key)
    this.ghosts.delete(key)
  }

  clear(): void {
    this.entries.clear()
    this.evicted.clear()
    this.ghosts.clear()
  }

  /** A clear the disk refused: memory is empty, and what was there may come back at a restart. */
  clearRefused(): void {
    for (const [key, entry] of this.entries) this.ghosts.set(key, entry)
    this.entries.clear()
    this.evicted.clear()
  }

  /** The cache told that the key left for room. */
  reportedGone(key: string): void {
    if (this.entries.has(key)) this.evicted.add(key)
  }

  allowed(key: string, at: Instant): Set<Outcome> {
    const entry = this.entries.get(key)
    const out = new Set<Outcome>()
    if (entry === undefined) {
      const ghost = this.ghosts.get(key)
      if (ghost !== undefined && (ghost.expiresFrom === 0 || at.from < ghost.expiresTo)) out.add(ghost.version)
      return out.add('absent')
    }
    const { expiresFrom, expiresTo } = entry
    // Live while the cache's now < expiresAt.
    const surelyLive = expiresFrom === 0 || at.to < expiresFrom
    const surelyExpired = expiresFrom !== 0 && at.from >= expiresTo
    if (!surelyExpired) out.add(entry.version)
    if (!surelyLive || this.evicted.has(key) || this.lossy) out.add('absent')
    return out
  }

  /** What a read found narrows the model: a key found absent is gone for good. */
  observed(key: string, outcome: Outcome): void {
    if (outcome !== 'absent') return
    this.entries.delete(key)
    this.evicted.delete(key)
  }

  /** The least and most a delete of these keys may count. */
  countRange(keys: Iterable<string>, at: Instant): [number, number] {
    let min = 0
    let max = 0
    for (const key of keys) {
      const allowed = this.allowed(key, at)
      if (!allowed.has('absent')) min++
      if (allowed.size > 1 || !allowed.has('absent')) max++
    }
    return [min, max]
  }

  keysOfTag(tag: string): string[] {
    return [...this.entries].filter(([, e]) => e.tags.includes(tag)).map(([k]) => k)
  }
}
