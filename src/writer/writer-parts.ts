import type { SchedulerLike } from 'rxjs'
import type { Codec } from '../codec/codec.js'
import type { CircuitBreaker } from '../guards/circuit-breaker.js'
import type { Notifier } from '../observe/notifier.js'
import type { ResolvedWriter } from '../options/writer-options.js'

/** Where a writer applies an op once the source (through) or the journal (back) has it: the cache, through read-through. */
interface WriterCache<V> {
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): undefined | Promise<void>
  delete(key: string): boolean | Promise<boolean>
}

/** One entry of `setMany`, checked. */
export interface WrittenEntry<V> {
  key: string
  value: V
  ttl: number
  tags: readonly string[] | undefined
}

export interface WriterParts<V> {
  options: ResolvedWriter<V>
  cache: WriterCache<V>
  /** Encodes values for the journal. */
  codec: Codec
  notifier: Pick<Notifier<V>, 'counters' | 'flushed' | 'writeFailed' | 'error'>
  scheduler: SchedulerLike
  /** The cache's default time to live (0: none), for a write whose `ttl` is 0. */
  defaultTtl: number
  /** Settles when the tiers have opened: a journal is replayed into them only then. */
  tiersReady: Promise<void>
  /** The cache-wide `breaker` option's breaker for the source's writes; none when it is off. */
  breaker?: CircuitBreaker | undefined
}

/** The cache's writes, in front of the source of truth: the facade's `set`, `delete`, their bulk forms, `flush` and `close`. */
export interface CacheWriter<V> {
  /** Resolves once the writer can take writes (a journal replayed); rejects when its journal cannot open. */
  readonly opened: Promise<void>
  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): Promise<void>
  delete(key: string): Promise<boolean>
  setMany(entries: readonly WrittenEntry<V>[]): Promise<void>
  deleteMany(keys: readonly string[]): Promise<number>
  /** Whether a read that misses the tiers must not call the loader for `key`: its source value is older. */
  isDirty(key: string): boolean
  flush(): Promise<void>
  /** Writes what it can within `timeout` ms, then lets go of the source and the journal. */
  close(timeout: number): Promise<void>
}
