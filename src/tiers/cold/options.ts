import { CacheError } from '../../errors.js'
import type { WhenFull } from '../../../streams/inbox.js'
import type { ColdLeaveListener } from './cold-index.js'

export type FsyncMode = 'always' | 'interval' | 'never'

/** What the store keeps on disk and how: the part of its options a cache's `cold` option gives. */
export interface ColdSettings {
  /** Directory of the store; created when missing. */
  dir: string
  /** Disk budget for segment files. Default 1 GiB. */
  maxBytes?: number
  /** Size of one segment file. Default min(64 MiB, maxBytes / 8). */
  segmentBytes?: number
  /**
   * 'always': every write is fsynced before it is acknowledged (one fsync per
   * group-committed batch). 'interval' and 'never': only `sync()` fsyncs; the
   * caller's scheduler calls it on ticks for 'interval'. Default 'interval'.
   */
  fsync?: FsyncMode
  /** Dead fraction of a sealed segment that makes it due for compaction. Default 0.5. */
  compactionThreshold?: number
}

export interface ColdStoreOptions extends ColdSettings {
  /** Most positioned reads in flight at once. Default 32. */
  readConcurrency?: number
  /** The clock (ms since epoch), from the caller's scheduler. */
  now: () => number
  /** Faults that do not fail the call in hand: corrupt records, failed writes. */
  onError?: (error: CacheError) => void
  /**
   * A key whose newest record was a value left the store other than by a
   * write or delete of it: 'evicted' for room (its segment emptied by
   * eviction without reinsertion, or dropped whole to keep the disk bound),
   * 'expired' (compacted or evicted away after its expiry), or 'corrupt'
   * (found so when read); `tagged` when the record carried tags. Whoever
   * keeps account of disk entries in memory (their tags, evictions) can
   * follow. Called synchronously, inside whatever store call noticed it: an
   * evicted entry is told once its segment is gone and the store notices
   * (at once for region eviction; for a segment the hard bound dropped, at
   * the next `maintain()` or the first lookup of the key, whichever comes
   * first). Never during recovery.
   */
  onLeave?: ColdLeaveListener
}

export interface ResolvedColdSettings {
  dir: string
  maxBytes: number
  segmentBytes: number
  fsync: FsyncMode
  compactionThreshold: number
}

export interface ResolvedColdOptions extends ResolvedColdSettings {
  readConcurrency: number
  now: () => number
  onError: (error: CacheError) => void
  onLeave: ColdLeaveListener | undefined
}

const GiB = 1 << 30
const MiB = 1 << 20

/** Worded as the cache words every option (`src/options/options.ts`), so that the cache passes it on as it is. */
const invalid = (option: string, rule: string): CacheError => new CacheError('E_INVALID_OPTIONS', `option '${option}' ${rule}`)

/**
 * The one check of the settings, for a cache's `cold` option and for a store
 * opened alone: fills defaults and throws E_INVALID_OPTIONS naming the first
 * bad option as `cold.<name>`.
 */
export function resolveColdSettings(o: ColdSettings): ResolvedColdSettings {
  if (typeof o.dir !== 'string' || o.dir === '') throw invalid('cold.dir', 'must be a non-empty string')
  const maxBytes = o.maxBytes ?? GiB
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw invalid('cold.maxBytes', `must be a positive integer, got ${o.maxBytes}`)
  const segmentBytes = o.segmentBytes ?? Math.max(4096, Math.min(64 * MiB, Math.floor(maxBytes / 8)))
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 256 || segmentBytes > GiB) {
    throw invalid('cold.segmentBytes', `must be an integer in [256, 1 GiB], got ${o.segmentBytes}`)
  }
  if (segmentBytes * 2 > maxBytes) throw invalid('cold.segmentBytes', `must be at most half of cold.maxBytes (${maxBytes}), got ${segmentBytes}`)
  const fsync = o.fsync ?? 'interval'
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'never') {
    throw invalid('cold.fsync', `must be 'always', 'interval' or 'never', got ${String(o.fsync)}`)
  }
  const compactionThreshold = o.compactionThreshold ?? 0.5
  if (!(compactionThreshold > 0 && compactionThreshold <= 1)) {
    throw invalid('cold.compactionThreshold', `must be in (0, 1], got ${o.compactionThreshold}`)
  }
  return { dir: o.dir, maxBytes, segmentBytes, fsync, compactionThreshold }
}

/** The settings, then what only a store opened alone is given: its clock, read concurrency and listeners. */
export function resolveColdOptions(o: ColdStoreOptions): ResolvedColdOptions {
  const settings = resolveColdSettings(o)
  if (typeof o.now !== 'function') throw invalid('cold.now', 'must be a function returning ms since epoch')
  const readConcurrency = o.readConcurrency ?? 32
  if (!Number.isInteger(readConcurrency) || readConcurrency < 1) {
    throw invalid('cold.readConcurrency', `must be a positive integer, got ${o.readConcurrency}`)
  }
  const onError = o.onError ?? (() => undefined)
  if (o.onLeave !== undefined && typeof o.onLeave !== 'function') throw invalid('cold.onLeave', 'must be a function')
  return { ...settings, readConcurrency, now: o.now, onError, onLeave: o.onLeave }
}

/** The disk tier's inbox, as the cache's `cold.inbox` option gives it. */
export interface ColdInboxOptions {
  /**
   * Most requests the disk tier holds at once: demotions staged for their
   * batch write, and reads, delete tombstones, values written straight to
   * disk and checkpoint batches waiting their turn or under way. Default
   * 1,048,576 (staged demotions are bounded to 64 MiB as well).
   */
  capacity?: number
  /**
   * What a request whose caller awaits does at a full inbox: 'wait' (default)
   * until there is room, or 'reject' at once with `E_BACKPRESSURE`. A
   * demotion cannot wait (it comes from a synchronous eviction): at a full
   * inbox it is refused, and the entry leaves the cache with an `evict`
   * event (reason 'io').
   */
  whenFull?: 'wait' | 'reject'
}

export interface ResolvedColdInboxOptions {
  capacity: number
  whenFull: WhenFull
}

/** What the disk tier is built from: the store's options as the cache resolved them, and its inbox. */
export interface ColdTierOptions {
  dir: string
  maxBytes: number
  segmentBytes: number
  fsync: FsyncMode
  fsyncInterval: number
  compactionThreshold: number
  inbox: ResolvedColdInboxOptions
}

const DEFAULT_INBOX_CAPACITY = 1 << 20

const invalidOption = (option: string, rule: string): CacheError => new CacheError('E_INVALID_OPTIONS', `option 'cold.inbox${option}' ${rule}`)

/** Fills the inbox's defaults; E_INVALID_OPTIONS naming the option when one is wrong. */
export function resolveColdInboxOptions(inbox: unknown): ResolvedColdInboxOptions {
  if (inbox === undefined) return { capacity: DEFAULT_INBOX_CAPACITY, whenFull: 'wait' }
  if (typeof inbox !== 'object' || inbox === null || Array.isArray(inbox)) throw invalidOption('', 'must be an object')
  for (const name of Object.keys(inbox)) {
    if (name !== 'capacity' && name !== 'whenFull') throw invalidOption(`.${name}`, 'is not a known option')
  }
  const { capacity = DEFAULT_INBOX_CAPACITY, whenFull = 'wait' } = inbox as ColdInboxOptions
  if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 1) {
    throw invalidOption('.capacity', `must be a positive integer, got ${String(capacity)}`)
  }
  if (whenFull !== 'wait' && whenFull !== 'reject') throw invalidOption('.whenFull', `must be 'wait' or 'reject', got ${String(whenFull)}`)
  return { capacity, whenFull }
}
