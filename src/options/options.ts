import { asyncScheduler, type SchedulerLike } from 'rxjs'
import type { Codec } from '../codec/codec.js'
import { createDefaultCodec } from '../codec/default-codec.js'
import { POLICY_NAMES, type PolicyName } from '../policies/index.js'
import {
  type ColdInboxOptions,
  type FsyncMode,
  type ResolvedColdInboxOptions,
  type ResolvedColdSettings,
  resolveColdInboxOptions,
  resolveColdSettings,
} from '../tiers/cold/options.js'
import { checkKeys, invalid, isPositive, isPositiveInteger, resolveInteger } from './option-rules.js'
import { type ResolvedWriter, resolveWriter, type Writer } from './writer-options.js'
import { type DistributedOptions, DISTRIBUTED_OPTION_NAMES, type ResolvedDistributed, resolveDistributed } from './distributed-options.js'
import { type ResolvedServeOptions, resolveServeOptions, SERVE_OPTION_NAMES, type ServeOptions } from './serve-options.js'

export interface HotOptions {
  /** Most entries the hot tier holds. Default 10,000 when neither bound is given. */
  maxEntries?: number
  /** Most estimated heap bytes the hot tier holds. */
  maxBytes?: number
  /** Default 'w-tinylfu' (`docs/policies.md` says why). */
  policy?: PolicyName
}

export interface WarmOptions {
  /**
   * Most bytes the warm tier holds: each entry is charged its encoded bytes,
   * its key and a measured per-entry overhead (about 390 B for the Buffer,
   * the index and the policy), so that this bounds its real memory even for
   * small values. `stats().tiers.warm.bytes` reports this charge.
   */
  maxBytes: number
  /** Default 'w-tinylfu' (`docs/policies.md` says why). */
  policy?: PolicyName
}

export interface ColdOptions {
  /** Directory of the store; created when missing. One cache at a time may use it. */
  dir: string
  /** Disk budget. Default 1 GiB. */
  maxBytes?: number
  /** Size of one segment file. Default min(64 MiB, maxBytes / 8). */
  segmentBytes?: number
  /** 'always': every write is fsynced before it is acknowledged; 'interval' (default): every `fsyncInterval` ms; 'never': at checkpoint and close only. */
  fsync?: FsyncMode
  /** Ms between two fsyncs under 'interval'. Default 1,000. */
  fsyncInterval?: number
  /** Dead fraction of a segment that makes it due for a rewrite. Default 0.5. */
  compactionThreshold?: number
  /**
   * The disk tier's bounded inbox: `capacity` (default 1,048,576) bounds the
   * requests it holds (staged demotions, queued and running reads, tombstones,
   * writes, checkpoint batches); `whenFull` says what a request whose caller
   * awaits does at a full inbox: 'wait' (default) for room, or 'reject' with
   * `E_BACKPRESSURE`. A demotion never waits: at a full inbox the entry
   * leaves the cache (`evict`, reason 'io').
   */
  inbox?: ColdInboxOptions
}

/** `DistributedOptions`: a remote tier, a coherence bus. `ServeOptions`: stale-while-revalidate, grace, timeouts and a breaker for the loader and `getOrSet` factories. */
export interface CacheOptions<V = unknown> extends ServeOptions, DistributedOptions {
  hot?: HotOptions
  /** Off (false) by default: then nothing is encoded and any value may be stored. */
  warm?: false | WarmOptions
  /** Off (false) by default: a persistent tier on disk, below warm. */
  cold?: false | ColdOptions
  /** Default time to live in ms; entries never expire when absent. */
  ttl?: number
  /** All time and timers come from it. Default `asyncScheduler`. */
  scheduler?: SchedulerLike
  /** Encoding for the byte tiers. Default msgpackr, LZ4 from 1 KiB. */
  codec?: Codec
  /** Ms between `stats$` samples. Default 1,000. */
  statsInterval?: number
  /**
   * Longest key accepted, in UTF-16 code units. Default 1,024; at most
   * 21,845, so that any key fits the 65,535 bytes a disk record gives a key
   * (UTF-8 takes up to 3 bytes per unit), with or without a cold tier.
   */
  maxKeyLength?: number
  /**
   * Largest value a write accepts (set, setMany, getOrSet, a loaded value);
   * Infinity for none. Default 1 MiB. With a byte tier and the default codec
   * it counts the value's msgpack bytes (before compression), plus 1 per value
   * it holds and 64 per object (array, Map, Set, Date...), since encoding
   * time follows their number; with a custom codec, the length of its
   * encoding (`Codec.check` may count otherwise); with only a hot tier, the
   * value's heap estimate (the one `hot.maxBytes` counts). At the default,
   * any value encodes and decodes in under 10 ms.
   */
  maxValueBytes?: number
  /**
   * What a value may be. 'data' (default): what the codec gives back as it
   * was (plain objects, arrays, Date, Map, Set, typed arrays, BigInt...),
   * checked at every write in every configuration, so that adding warm or
   * cold never refuses a value that hot alone took; and frozen when stored
   * and when read back from warm or cold, so that it refuses changes the
   * same in every tier. 'any': any value but undefined, a function or a
   * symbol, kept by reference and left as it is; hot alone only, since warm
   * and cold hold values as bytes.
   */
  values?: ValueKind
  /**
   * Read-through: a `get` that misses every tier calls it (one call per key at
   * a time) and caches what it returns; undefined is a miss and is not cached.
   */
  loader?: Loader<V>
  /**
   * Loads keys ahead of their use, as predicted from the stream of reads
   * (keys walked in numeric steps, keys that follow one another). Needs a
   * `loader`. Off (false) by default.
   */
  prefetch?: false | PrefetchOptions
  /**
   * Writes to the source of truth: `set`, `setMany`, `delete` and `deleteMany`
   * reach it through `writer.write`, at once ('through', the default) or
   * later in batches from a durable journal ('back'). See `Writer`.
   */
  writer?: Writer<V>
  /** Ms `close()` gives a write-back writer to flush its dirty entries; what is left stays in the journal. Default 10,000. */
  closeTimeout?: number
}

export interface PrefetchOptions {
  /** Most loads ahead of use at once; more predictions are dropped, never queued. Default 4. */
  maxInFlight?: number
  /**
   * Below this share of loads ahead whose value a read used (over the last 64), loading pauses; predictions
   * are then judged without loading, and loading resumes once they would be used again. Default 0.25.
   */
  minConfidence?: number
}

export type ValueKind = 'data' | 'any'

export type Loader<V> = (key: string, context: { signal: AbortSignal }) => V | undefined | Promise<V | undefined>

interface ResolvedColdOptions extends ResolvedColdSettings {
  fsyncInterval: number
  inbox: ResolvedColdInboxOptions
}

export interface ResolvedOptions<V = unknown> {
  hot: Required<HotOptions>
  warm: Required<WarmOptions> | false
  cold: ResolvedColdOptions | false
  ttl: number
  scheduler: SchedulerLike
  codec: Codec
  statsInterval: number
  maxKeyLength: number
  maxValueBytes: number
  values: ValueKind
  loader: Loader<V> | undefined
  prefetch: Required<PrefetchOptions> | false
  writer: ResolvedWriter<V> | undefined
  closeTimeout: number
  serve: ResolvedServeOptions
  distributed: ResolvedDistributed
}

const DEFAULT_HOT_MAX_ENTRIES = 10_000
/** The most UTF-16 units whose UTF-8 form surely fits the 16-bit key length of a disk record. */
const MAX_KEY_LENGTH = Math.floor(0xffff / 3)
export const DEFAULT_MAX_VALUE_BYTES = 1 << 20

const KNOWN = ['hot', 'warm', 'cold', 'ttl', 'scheduler', 'codec', 'statsInterval', 'maxKeyLength', 'maxValueBytes', 'values', 'loader', 'prefetch']
KNOWN.push('writer', 'closeTimeout')
KNOWN.push(...SERVE_OPTION_NAMES, ...DISTRIBUTED_OPTION_NAMES)
const KNOWN_PREFETCH = ['maxInFlight', 'minConfidence']
const KNOWN_HOT = ['maxEntries', 'maxBytes', 'policy']
const KNOWN_WARM = ['maxBytes', 'policy']
const KNOWN_COLD = ['dir', 'maxBytes', 'segmentBytes', 'fsync', 'fsyncInterval', 'compactionThreshold', 'inbox']

/** The best overall on the hit-ratio suite (`docs/hit-ratio.md`), within a point of LRU on every row. */
export const DEFAULT_POLICY: PolicyName = 'w-tinylfu'

function checkPolicy(option: string, policy: unknown): PolicyName {
  if (policy === undefined) return DEFAULT_POLICY
  if (!POLICY_NAMES.includes(policy as PolicyName)) {
    throw invalid(option, `must be one of ${POLICY_NAMES.map((p) => `'${p}'`).join(', ')}`)
  }
  return policy as PolicyName
}

/** Checks every option and fills in the defaults; throws `E_INVALID_OPTIONS` naming the first bad one. */
export function resolveOptions<V>(options: CacheOptions<V> = {}): ResolvedOptions<V> {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'must be an object')
  checkKeys(options, KNOWN, '')
  return {
    hot: resolveHot(options.hot),
    warm: resolveWarm(options.warm),
    cold: resolveCold(options.cold),
    ttl: resolveTtl('ttl', options.ttl),
    scheduler: resolveScheduler(options.scheduler),
    codec: resolveCodec(options.codec),
    statsInterval: resolveInteger('statsInterval', options.statsInterval, 1000),
    maxKeyLength: resolveMaxKeyLength(options.maxKeyLength),
    maxValueBytes: resolveMaxValueBytes(options.maxValueBytes),
    values: resolveValues(options.values, options.warm, options.cold),
    loader: resolveLoader(options.loader),
    prefetch: resolvePrefetch(options.prefetch, options.loader !== undefined),
    writer: resolveWriter(options.writer, options.cold, options.values),
    closeTimeout: resolveCloseTimeout(options.closeTimeout),
    serve: resolveServeOptions(options),
    distributed: resolveDistributed(options),
  }
}

function resolveHot(hot: HotOptions | undefined): Required<HotOptions> {
  if (hot === undefined) return { maxEntries: DEFAULT_HOT_MAX_ENTRIES, maxBytes: Infinity, policy: DEFAULT_POLICY }
  if (typeof hot !== 'object' || hot === null) throw invalid('hot', 'must be an object')
  checkKeys(hot, KNOWN_HOT, 'hot.')
  if (hot.maxEntries !== undefined && !isPositiveInteger(hot.maxEntries)) {
    throw invalid('hot.maxEntries', 'must be a positive integer')
  }
  if (hot.maxBytes !== undefined && !isPositive(hot.maxBytes)) throw invalid('hot.maxBytes', 'must be a positive number')
  const unbounded = hot.maxEntries === undefined && hot.maxBytes === undefined
  return {
    maxEntries: hot.maxEntries ?? (unbounded ? DEFAULT_HOT_MAX_ENTRIES : Infinity),
    maxBytes: hot.maxBytes ?? Infinity,
    policy: checkPolicy('hot.policy', hot.policy),
  }
}

function resolveWarm(warm: false | WarmOptions | undefined): Required<WarmOptions> | false {
  if (warm === undefined || warm === false) return false
  if (typeof warm !== 'object' || warm === null) throw invalid('warm', 'must be false or an object')
  checkKeys(warm, KNOWN_WARM, 'warm.')
  if (!isPositive(warm.maxBytes) || warm.maxBytes === Infinity) {
    throw invalid('warm.maxBytes', 'must be a positive, finite number of bytes')
  }
  return { maxBytes: warm.maxBytes, policy: checkPolicy('warm.policy', warm.policy) }
}

function resolveCold(cold: false | ColdOptions | undefined): ResolvedColdOptions | false {
  if (cold === undefined || cold === false) return false
  if (typeof cold !== 'object' || cold === null) throw invalid('cold', 'must be false or an object')
  checkKeys(cold, KNOWN_COLD, 'cold.')
  // The store's settings are checked by the store's own rules, which name the option as every option here is named.
  return {
    ...resolveColdSettings(cold),
    fsyncInterval: resolveInteger('cold.fsyncInterval', cold.fsyncInterval, 1000),
    inbox: resolveColdInboxOptions(cold.inbox),
  }
}

/** A time to live: a positive number of ms, Infinity for none. 0 when absent. */
export function resolveTtl(option: string, ttl: unknown): number {
  if (ttl === undefined) return 0
  if (!isPositive(ttl)) throw invalid(option, 'must be a positive number of milliseconds (Infinity for none)')
  return ttl
}

function resolveMaxKeyLength(maxKeyLength: unknown): number {
  const resolved = resolveInteger('maxKeyLength', maxKeyLength, 1024)
  if (resolved > MAX_KEY_LENGTH) {
    throw invalid('maxKeyLength', `must be at most ${MAX_KEY_LENGTH}: a longer key may not fit the 65,535 bytes a disk record gives a key`)
  }
  return resolved
}

function resolveValues(values: unknown, warm: unknown, cold: unknown): ValueKind {
  if (values === undefined) return 'data'
  if (values !== 'data' && values !== 'any') throw invalid('values', `must be 'data' or 'any'`)
  if (values === 'any' && ((warm !== undefined && warm !== false) || (cold !== undefined && cold !== false))) {
    throw invalid('values', `'any' keeps live objects by reference, which warm and cold cannot hold: use it with hot alone`)
  }
  return values
}

function resolveMaxValueBytes(maxValueBytes: unknown): number {
  if (maxValueBytes === undefined) return DEFAULT_MAX_VALUE_BYTES
  if (!isPositiveInteger(maxValueBytes)) throw invalid('maxValueBytes', 'must be a positive integer of bytes, or Infinity for none')
  return maxValueBytes
}

function resolveLoader<V>(loader: Loader<V> | undefined): Loader<V> | undefined {
  if (loader !== undefined && typeof loader !== 'function') throw invalid('loader', 'must be a function (key, { signal }) => value')
  return loader
}

function resolvePrefetch(prefetch: false | PrefetchOptions | undefined, hasLoader: boolean): Required<PrefetchOptions> | false {
  if (prefetch === undefined || prefetch === false) return false
  if (typeof prefetch !== 'object' || prefetch === null) throw invalid('prefetch', 'must be false or an object')
  checkKeys(prefetch, KNOWN_PREFETCH, 'prefetch.')
  if (!hasLoader) throw invalid('prefetch', 'needs a loader: there is nothing to prefetch with')
  const minConfidence = prefetch.minConfidence ?? 0.25
  if (typeof minConfidence !== 'number' || !(minConfidence >= 0 && minConfidence <= 1)) {
    throw invalid('prefetch.minConfidence', 'must be a number from 0 to 1')
  }
  return { maxInFlight: resolveInteger('prefetch.maxInFlight', prefetch.maxInFlight, 4), minConfidence }
}

function resolveScheduler(scheduler: unknown): SchedulerLike {
  if (scheduler === undefined) return asyncScheduler
  const s = scheduler as SchedulerLike
  if (typeof s !== 'object' || s === null || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    throw invalid('scheduler', 'must be an RxJS SchedulerLike (now and schedule)')
  }
  return s
}

function resolveCodec(codec: unknown): Codec {
  if (codec === undefined) return createDefaultCodec()
  const c = codec as Codec
  if (typeof c !== 'object' || c === null || typeof c.encode !== 'function' || typeof c.decode !== 'function') {
    throw invalid('codec', 'must have encode and decode functions')
  }
  return c
}

function resolveCloseTimeout(closeTimeout: unknown): number {
  if (closeTimeout === undefined) return 10_000
  if (typeof closeTimeout !== 'number' || !(closeTimeout >= 0)) throw invalid('closeTimeout', 'must be a number of milliseconds, 0 or more')
  return closeTimeout
}
