import type { Codec } from '../codec/codec.js'
import type { Notifier } from '../observe/notifier.js'
import type { ResolvedDistributed } from '../options/distributed-options.js'
import { type SchedulerLike, Subject, type Subscription } from 'rxjs'
import { RemoteLink } from '../remote/remote-link.js'
import { SharedLoads } from '../remote/shared-loads.js'
import type { RemoteTierParts } from '../stack/lower-tiers.js'
import { type BusPosition, readBusPosition, saveBusPosition } from '../coherence/bus-position.js'
import { openBus, type OpenedBus } from '../coherence/bus-transport.js'
import type { Invalidation } from '../coherence/invalidation.js'
import { Coherence, type LocalCopies } from '../coherence/coherence.js'
import { LocalVersions } from '../coherence/local-versions.js'
import { type LocalWrites, SharedWrites } from '../coherence/shared-writes.js'
import { VersionClock } from '../coherence/version-clock.js'

export interface DistributedParts {
  options: ResolvedDistributed
  codec: Codec
  scheduler: SchedulerLike
  /** The cache's default time to live (0: none). */
  defaultTtl: number
}

/**
 * What makes several instances one cache: the remote tier's connection, the
 * bus, the versions of local copies, and the writes and loads that go
 * through them. Made in two steps, since the stack needs the remote tier
 * and the writes need read-through: `new`, then `connect`.
 */
export class Distributed<V> {
  readonly versions = new LocalVersions()
  readonly remote: RemoteLink | undefined
  readonly tierParts: RemoteTierParts | undefined
  writes: SharedWrites<V> | undefined
  #coherence: Coherence | undefined
  #bus: OpenedBus | undefined
  #ready: Promise<void> = Promise.resolve()
  readonly #parts: DistributedParts
  readonly #clock: VersionClock
  #diskDir: string | undefined
  readonly #busBack = new Subject<void>()
  #busStates: Subscription | undefined

  constructor(parts: DistributedParts) {
    this.#parts = parts
    this.#clock = new VersionClock(parts.scheduler)
    const { remote, bus } = parts.options
    if (remote !== false) {
      this.remote = new RemoteLink(remote, bus !== false && bus.kind === 'redis' ? bus.retention : 300_000, parts.scheduler)
      // A bus on the remote tier's server that connects again says the server answers: the tier need not wait for its next probe.
      const sameServer = bus !== false && bus.kind === 'redis' && bus.redis === remote.redis
      this.tierParts = { link: this.remote, versions: this.versions, serverBack: sameServer ? this.#busBack : undefined }
    }
  }

  /** Whether there is anything to share: a remote tier or a bus. */
  static wanted(options: ResolvedDistributed): boolean {
    return options.remote !== false || options.bus !== false
  }

  /** Resolves once the bus has first connected (or at once without one). */
  get ready(): Promise<void> {
    return this.#ready
  }

  /** Whether local copies may be served now: see `Coherence.trusted`. */
  get trusted(): boolean {
    return this.#coherence === undefined || this.#coherence.trusted
  }

  /** The cross-instance single-flight of loads, with a remote tier. */
  loads(check: (key: string, value: V) => void): SharedLoads<V> | undefined {
    const remote = this.remote
    if (remote === undefined) return undefined
    return new SharedLoads<V>({
      remote,
      versions: this.versions,
      codec: this.#parts.codec,
      origin: this.#parts.options.instanceId,
      check,
      remoteTtl: (ttl) => this.remoteTtl(ttl),
    })
  }

  /**
   * Opens the bus and makes the writes, given this instance's tiers.
   * `diskDir`: the disk tier's directory, whose copies outlive the process;
   * where the bus stood when they were last made coherent is kept there.
   */
  connect(local: LocalWrites<V> & LocalCopies, notifier: Notifier<unknown>, diskDir: string | undefined): void {
    const { options, scheduler } = this.#parts
    const origin = options.instanceId
    let publish: ((message: Invalidation) => Promise<void>) | undefined
    this.#diskDir = diskDir
    if (options.bus !== false) {
      const resume = diskDir === undefined ? undefined : () => readBusPosition(diskDir)
      const bus = (this.#bus = openBus(options.bus, origin, this.remote, scheduler, resume))
      const coherence = (this.#coherence = new Coherence({
        transport: bus.transport,
        origin,
        versions: this.versions,
        local,
        notifier,
        scheduler,
        maxStaleness: options.maxStaleness,
        keepsCopiesAcrossRestarts: diskDir !== undefined,
        observed: this.remote === undefined ? (version) => this.#clock.observe(version) : undefined,
        generation: this.remote?.generation,
      }))
      // Only the cache's own Redis bus is watched so: a transport the application gives is subscribed to once, by coherence.
      if (this.tierParts?.serverBack !== undefined) {
        this.#busStates = bus.transport.state$.subscribe((change) => {
          if (change.state !== 'disconnected') this.#busBack.next()
        })
      }
      // The remote tier's scripts append its writes' invalidations to this very stream.
      if (!(options.bus.kind === 'redis' && options.bus.sharesRemote)) publish = (message) => bus.transport.publish(message)
      this.#ready = bus.opened.then(() => coherence.connected)
    }
    this.writes = new SharedWrites<V>({
      local,
      origin,
      versions: this.versions,
      codec: this.#parts.codec,
      remote: this.remote,
      publish,
      nextVersion: () => this.#clock.next(),
      remoteTtl: (ttl) => this.remoteTtl(ttl),
    })
  }

  /** A read while local copies may not be served: the remote tier's value, or undefined (the caller loads). */
  async readAround(key: string): Promise<V | undefined> {
    const parts = this.remote?.usable
    if (parts === undefined) return undefined
    try {
      const found = await parts.store.get(key)
      return found === undefined ? undefined : (this.#parts.codec.decode(found.bytes) as V)
    } catch (error) {
      this.remote?.fault(error, `reading '${key}'`)
      return undefined
    }
  }

  /** The remote time to live of an entry written with `ttl` (0: the cache's default, then the remote tier's). */
  remoteTtl(ttl: number): number {
    const given = ttl !== 0 ? ttl : this.#parts.defaultTtl !== 0 ? this.#parts.defaultTtl : this.remote === undefined ? 0 : this.remote.options.ttl
    return given === Infinity ? 0 : given
  }

  /** Applies no more invalidations; resolves with where the bus stood once every one taken has been applied. */
  async stopApplying(): Promise<BusPosition | undefined> {
    await this.#coherence?.stop()
    return this.#bus?.position()
  }

  /**
   * Called once the tiers have closed, the disk's copies made durable: the
   * next life of this instance carries on from `position` instead of
   * dropping them. A failure to save leaves the earlier position, which only
   * replays more.
   */
  async keepPosition(position: BusPosition | undefined): Promise<void> {
    if (position === undefined || this.#diskDir === undefined) return
    await saveBusPosition(this.#diskDir, position).catch(() => undefined)
  }

  /** The rest, once the tiers have closed: `stopApplying` has already stopped coherence. */
  async close(): Promise<void> {
    this.#busStates?.unsubscribe()
    this.#busBack.complete()
    await this.#bus?.close().catch(() => undefined)
    await this.remote?.close()
  }
}
