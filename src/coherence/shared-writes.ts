import type { Codec } from '../codec/codec.js'
import { CacheError, isCacheError } from '../errors.js'
import type { RemoteLink } from '../remote/remote-link.js'
import type { Invalidation } from './invalidation.js'
import type { LocalVersions } from './local-versions.js'

/** This instance's own tiers, as a write that has reached the others changes them (read-through's writes: loads under way are superseded). */
export interface LocalWrites<V> {
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): undefined | Promise<void>
  delete(key: string): boolean | Promise<boolean>
  clear(): Promise<void> | undefined
  keysOfTag(tag: string): readonly string[] | Promise<readonly string[]>
}

export interface SharedWritesParts<V> {
  local: LocalWrites<V>
  origin: string
  versions: LocalVersions
  codec: Codec
  /** The remote tier; none: writes are published on the bus only. */
  remote: RemoteLink | undefined
  /** Where invalidations are published; none when the remote tier's scripts append them to the bus themselves. */
  publish: ((message: Invalidation) => Promise<void>) | undefined
  /** The version of a write when there is no remote tier to give one. */
  nextVersion: () => number
  /** The remote time to live of an entry written with `ttl` (0: the defaults). */
  remoteTtl(ttl: number): number
}

/**
 * Writes that other instances must see: each goes to the remote tier (which
 * gives it its version and appends its invalidation to the bus in one step)
 * or is published on the bus, before this instance's tiers take it and it
 * is acknowledged. A call that rejects `E_REMOTE` changed nothing here,
 * except that a key whose remote write may have happened is dropped locally.
 */
export class SharedWrites<V> {
  readonly #parts: SharedWritesParts<V>

  constructor(parts: SharedWritesParts<V>) {
    this.#parts = parts
  }

  async set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): Promise<void> {
    const { remote, local, versions } = this.#parts
    if (remote === undefined) {
      const version = await this.#published({ keys: [key] })
      versions.record(key, version)
      return local.set(key, value, ttl, tags)
    }
    const parts = await this.#remoteParts(remote)
    if (parts === undefined) return local.set(key, value, ttl, tags)
    const bytes = this.#parts.codec.encode(value)
    versions.begin(key)
    let version: number
    try {
      version = await parts.store.set(key, bytes, this.#parts.remoteTtl(ttl), tags ?? [], this.#parts.origin)
    } catch (error) {
      versions.end(key)
      return this.#failed(remote, error, `writing '${key}'`, key, () => local.set(key, value, ttl, tags))
    }
    // Another instance's write of the key, ordered after this one by Redis, was applied here already: its value is the newer.
    if (versions.end(key) > version) {
      await local.delete(key)
      return
    }
    const stored = local.set(key, value, ttl, tags)
    versions.record(key, version)
    await this.#publishIfOwn({ origin: this.#parts.origin, version, keys: [key] })
    return stored
  }

  async delete(key: string): Promise<boolean> {
    const { remote, local, versions } = this.#parts
    if (remote === undefined) {
      versions.record(key, await this.#published({ keys: [key] }))
      return local.delete(key)
    }
    const parts = await this.#remoteParts(remote)
    if (parts === undefined) return local.delete(key)
    let deleted: { existed: boolean; version: number }
    try {
      deleted = await parts.store.delete(key, this.#parts.origin)
    } catch (error) {
      return this.#failed(remote, error, `deleting '${key}'`, key, () => local.delete(key))
    }
    versions.record(key, deleted.version)
    const here = await local.delete(key)
    await this.#publishIfOwn({ origin: this.#parts.origin, version: deleted.version, keys: [key] })
    return deleted.existed || here
  }

  /** Deletes every key with the tag in every instance: the remote tier's, and this instance's own. */
  async deleteByTag(tag: string): Promise<number> {
    const { remote, local } = this.#parts
    const here = await local.keysOfTag(tag)
    if (remote === undefined) {
      await this.#published({ tag })
      return this.#deleteLocal(here, [])
    }
    const parts = await this.#remoteParts(remote)
    if (parts === undefined) return this.#deleteLocal(here, [])
    let deleted: { keys: string[]; version: number }
    try {
      deleted = await parts.store.deleteTag(tag, this.#parts.origin)
    } catch (error) {
      return this.#failed(remote, error, `deleting tag '${tag}'`, undefined, () => this.#deleteLocal(here, []))
    }
    const keys = [...new Set([...deleted.keys, ...here])]
    await this.#publishIfOwn({ origin: this.#parts.origin, version: deleted.version, keys })
    return this.#deleteLocal(keys, deleted.keys)
  }

  async clear(): Promise<void> {
    const { remote, local, versions } = this.#parts
    if (remote === undefined) await this.#published({ all: true })
    else {
      const parts = await this.#remoteParts(remote)
      if (parts !== undefined) {
        try {
          const version = await parts.store.clear(this.#parts.origin)
          await this.#publishIfOwn({ origin: this.#parts.origin, version, all: true })
        } catch (error) {
          return this.#failed(remote, error, 'clearing', undefined, () => local.clear())
        }
      }
    }
    versions.forgetAll()
    await local.clear()
  }

  /** Deletes `keys` here: how many had a value in Redis (`gone`) or here. */
  async #deleteLocal(keys: readonly string[], gone: readonly string[]): Promise<number> {
    const remote = new Set(gone)
    let count = 0
    for (const key of keys) if ((await this.#parts.local.delete(key)) || remote.has(key)) count++
    return count
  }

  /** The remote parts to write to; undefined when the tier is down and writes go local-only; throws E_REMOTE when they are refused. */
  async #remoteParts(remote: RemoteLink) {
    const usable = remote.usable
    if (usable !== undefined) return usable
    if (remote.options.whenDown === 'local') return undefined
    if (remote.degraded || remote.parts !== undefined) throw new CacheError('E_REMOTE', 'the remote tier is degraded: the write was not taken')
    try {
      return await remote.connecting
    } catch (error) {
      throw new CacheError('E_REMOTE', 'the remote tier is not connected: the write was not taken', { cause: error })
    }
  }

  /**
   * A remote write failed: the tier degrades. Its outcome in Redis is not
   * known (a timeout may come after the write), so the key's local copy is
   * dropped either way; with `whenDown: 'local'` the write is then kept here.
   */
  async #failed<T>(remote: RemoteLink, error: unknown, doing: string, key: string | undefined, locally: () => T | Promise<T> | undefined): Promise<T> {
    const failure = remote.fault(error, doing)
    if (remote.options.whenDown === 'local') return (await locally()) as T
    if (key !== undefined) await this.#parts.local.delete(key)
    throw failure
  }

  /** Publishes an invalidation with a version of this instance's clock (no remote tier); rejects E_REMOTE, changing nothing, when it cannot. */
  async #published(message: Omit<Invalidation, 'origin' | 'version'>): Promise<number> {
    const version = this.#parts.nextVersion()
    const publish = this.#parts.publish
    if (publish === undefined) return version
    try {
      await publish({ ...message, origin: this.#parts.origin, version })
    } catch (error) {
      throw isCacheError(error) ? error : new CacheError('E_REMOTE', `the bus refused the invalidation: ${String(error)}`, { cause: error })
    }
    return version
  }

  /** With a remote tier whose bus is elsewhere (a BroadcastChannel, a transport of the application's): the write is told there too. */
  async #publishIfOwn(message: Invalidation): Promise<void> {
    await this.#parts.publish?.(message).catch(() => undefined)
  }
}
