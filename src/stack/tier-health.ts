import type { Observable, SchedulerLike, Subscription } from 'rxjs'
import { probeWithBackoff } from '../../streams/probe-backoff.js'
import { asCacheError, CacheError, isCacheError } from '../errors.js'
import type { TierName } from '../observe/events.js'
import type { Notifier } from '../observe/notifier.js'
import type { ColdTierStats, LowerTierState } from '../observe/stats.js'
import type { LowerEntry, LowerTier, MemoryImage, Refusal } from '../tiers/lower-tier.js'

/** The first retry of a failed tier comes this long after the failure; each next one twice as long after, at most MAX_RETRY_MS. */
const FIRST_RETRY_MS = 1000
const MAX_RETRY_MS = 30_000

const MISS: Promise<undefined> = Promise.resolve(undefined)

/**
 * A lower tier behind its health, the same for every kind of tier: a tier
 * that fails degrades, it does not take the cache down.
 *
 * - It fails when its first open rejects (`ready`: the cache's `ready`
 *   rejects too), or when it tells `failed` (a write, read, delete or clear
 *   its I/O refused). Then it is `degraded`: a `degraded` event, and
 *   `probe` retried on the scheduler after 1 s, doubling to 30 s (or at
 *   once when `backSoon` says its server answers again), until it
 *   resolves: `recovered`.
 * - While degraded nothing is written into the tier: demotions and values
 *   too large for memory are refused (`io`: they leave the cache), a
 *   checkpoint rejects. A tier that never opened is skipped by reads (a
 *   miss); one that did still serves the copies it holds, each its key's
 *   current value (a read it fails is a miss). Writes and deletes of keys
 *   still `mask` it: each keeps its disk copy hidden, with a tombstone
 *   owed, so that no copy older than the key's last write is read once it
 *   is back; a clear is owed the same way (the tier keeps its debts, and
 *   `probe` pays them before it resolves).
 * - A delete or clear that fails degrades the tier and resolves: memory
 *   has done it, and the disk owes it. E_BACKPRESSURE is not a failure.
 */
export class GuardedTier implements LowerTier {
  readonly name: TierName
  readonly ready: Promise<void>
  readonly #tier: LowerTier
  readonly #notifier: Notifier<unknown>
  readonly #scheduler: SchedulerLike
  #state: LowerTierState = 'opening'
  #retry: Subscription | undefined
  #closed = false

  readonly #backSoon: Observable<unknown> | undefined

  /**
   * `make` builds the tier, given where it tells its failures. `backSoon`:
   * told when something else sees the tier's server answer again (a bus on
   * the same Redis that reconnected); a degraded tier is probed at once.
   */
  constructor(
    name: TierName,
    notifier: Notifier<unknown>,
    scheduler: SchedulerLike,
    make: (failed: (error: CacheError) => void) => LowerTier,
    backSoon?: Observable<unknown>,
  ) {
    this.name = name
    this.#backSoon = backSoon
    this.#notifier = notifier
    this.#scheduler = scheduler
    const tier = (this.#tier = make((error) => this.#failed(error)))
    this.ready = tier.ready
    tier.ready.then(
      () => {
        if (this.#state === 'opening') this.#state = 'ok'
      },
      (error: unknown) => this.#failed(asCacheError(error, 'E_IO', `the ${name} tier could not open: ${String(error)}`)),
    )
  }

  get takesEvictions(): boolean {
    return this.#tier.takesEvictions
  }

  get state(): LowerTierState {
    return this.#state
  }

  get isOpen(): boolean {
    return this.#tier.isOpen
  }

  holds(key: string, now: number): boolean {
    return this.#tier.holds(key, now)
  }

  fits(key: string, encodedBytes: number): boolean {
    return this.#tier.fits(key, encodedBytes)
  }

  read(key: string): Promise<LowerEntry | undefined> {
    return this.#skipped() ? MISS : this.#tier.read(key)
  }

  readMany(keys: readonly string[]): Promise<(LowerEntry | undefined)[]> {
    return this.#skipped() ? Promise.resolve(new Array<undefined>(keys.length).fill(undefined)) : this.#tier.readMany(keys)
  }

  has(key: string): boolean | Promise<boolean> {
    return !this.#skipped() && this.#tier.has(key)
  }

  demote(entry: LowerEntry): Refusal | undefined {
    return this.#state === 'degraded' ? 'io' : this.#tier.demote(entry)
  }

  put(entry: LowerEntry): Refusal | undefined | Promise<void> {
    return this.#state === 'degraded' ? 'io' : this.#tier.put(entry)
  }

  checkRoom(): void {
    if (this.#state !== 'degraded') this.#tier.checkRoom()
  }

  mask(key: string): void {
    this.#tier.mask(key)
  }

  released(key: string): void {
    // What the key's write owes stays owed in the tier, paid when it is back.
    if (this.#state !== 'degraded') this.#tier.released(key)
  }

  invalidate(key: string): Promise<boolean> | undefined {
    if (this.#state === 'degraded') {
      // Hidden now, a tombstone owed: whether the tier held a value is not known.
      this.#tier.mask(key)
      return undefined
    }
    return this.#tier.invalidate(key)?.catch((error: unknown) => this.#survive(error, false))
  }

  clear(): Promise<void> {
    return this.#tier.clear().catch((error: unknown) => this.#survive(error, undefined))
  }

  checkpoint(memory: MemoryImage): Promise<void> {
    if (this.#state === 'degraded') return Promise.reject(new CacheError('E_IO', `the ${this.name} tier is degraded: nothing can be made durable in it`))
    return this.#tier.checkpoint(memory)
  }

  probe(): Promise<void> {
    return this.#tier.probe()
  }

  close(memory: MemoryImage): Promise<void> {
    this.#closed = true
    this.#retry?.unsubscribe()
    this.#retry = undefined
    return this.#tier.close(memory)
  }

  stats(): ColdTierStats {
    const stats = this.#tier.stats()
    stats.state = this.#state
    return stats
  }

  /** Degraded before it ever opened: nothing to read (and no open to wait for: a retry's may be under way). */
  #skipped(): boolean {
    return this.#state === 'degraded' && !this.#tier.isOpen
  }

  /** A failed delete or clear: done in memory, owed by the tier, which degrades. Other faults are the caller's. */
  #survive<T>(error: unknown, answer: T): T {
    if (isCacheError(error, 'E_BACKPRESSURE') || isCacheError(error, 'E_CLOSED')) throw error
    this.#failed(asCacheError(error, 'E_IO', `the ${this.name} tier failed: ${String(error)}`))
    return answer
  }

  #failed(error: CacheError): void {
    if (this.#closed || this.#state === 'degraded') return
    this.#state = 'degraded'
    this.#notifier.degraded(this.name, error)
    this.#retry = probeWithBackoff(
      { firstDelay: FIRST_RETRY_MS, maxDelay: MAX_RETRY_MS, attempt: () => this.#tier.probe(), soon: this.#backSoon },
      this.#scheduler,
    ).subscribe(() => this.#recovered())
  }

  #recovered(): void {
    this.#retry = undefined
    if (this.#closed) return
    this.#state = 'ok'
    this.#notifier.recovered(this.name)
  }
}
