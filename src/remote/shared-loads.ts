import type { Codec } from '../codec/codec.js'
import type { LocalVersions } from '../coherence/local-versions.js'
import type { RemoteLink } from './remote-link.js'

/** A source call: the loader's or a `getOrSet` factory's, with its timeouts and breaker. */
type SourceCall<V> = (context: { signal: AbortSignal }) => Promise<V | undefined>

export interface SharedLoadsParts<V> {
  remote: RemoteLink
  versions: LocalVersions
  codec: Codec
  origin: string
  /** Throws as a write of the value would be refused: such a value is not stored in Redis either. */
  check(key: string, value: V): void
  /** The remote time to live of an entry written with `ttl` (0: the defaults). */
  remoteTtl(ttl: number): number
}

/**
 * Single-flight across instances: a key every tier missed is loaded by
 * the instance that takes its lock in Redis; the others wait (notified when
 * it is released, at most `lockTimeout`), then read the value it stored, or
 * load it themselves. The value loaded is stored in Redis before the lock
 * is released, unless a write of the key came after the load began.
 */
export class SharedLoads<V> {
  readonly #parts: SharedLoadsParts<V>

  constructor(parts: SharedLoadsParts<V>) {
    this.#parts = parts
  }

  async load(key: string, call: SourceCall<V>, context: { signal: AbortSignal }, ttl: number, tags: readonly string[] | undefined): Promise<V | undefined> {
    const { remote, versions, codec } = this.#parts
    const parts = remote.usable
    if (parts === undefined) return call(context)
    let lock: Awaited<ReturnType<typeof parts.flight.acquire>>
    let since: number
    try {
      ;[lock, since] = await Promise.all([parts.flight.acquire(key), parts.store.version()])
    } catch (error) {
      remote.fault(error, `locking '${key}'`)
      return call(context)
    }
    // Another instance loads it: its value, once stored, is read from Redis. Taken: one may have stored it since this read missed.
    if (lock === undefined) await parts.flight.waitFor(key, remote.options.lockTimeout).catch(() => false)
    let found: Awaited<ReturnType<typeof parts.store.get>>
    try {
      found = await parts.store.get(key)
    } catch (error) {
      lock?.release().catch(() => undefined)
      remote.fault(error, `reading '${key}'`)
      return call(context)
    }
    if (found !== undefined) {
      lock?.release().catch(() => undefined)
      versions.record(key, found.version)
      return codec.decode(found.bytes) as V
    }
    try {
      const value = await call(context)
      if (value !== undefined) await this.#fill(key, value, ttl, tags, since)
      return value
    } finally {
      lock?.release().catch(() => undefined)
    }
  }

  async #fill(key: string, value: V, ttl: number, tags: readonly string[] | undefined, since: number): Promise<void> {
    const { remote, versions, codec, origin } = this.#parts
    const parts = remote.usable
    if (parts === undefined) return
    try {
      this.#parts.check(key, value)
    } catch {
      return // the caller's store refuses it and says why
    }
    try {
      const version = await parts.store.fill(key, codec.encode(value), this.#parts.remoteTtl(ttl), tags ?? [], since, origin)
      if (version !== undefined) versions.record(key, version)
    } catch (error) {
      remote.fault(error, `storing the value loaded for '${key}'`)
    }
  }
}
