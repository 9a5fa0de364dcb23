import type { Codec } from '../codec/codec.js'
import { encodedBound } from '../codec/default-codec.js'
import { CacheError } from '../errors.js'
import type { LowerTier } from '../tiers/lower-tier.js'
import { estimateSize } from '../tiers/memory/estimate-size.js'
import type { HotTier } from '../tiers/memory/hot-tier.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'

/** The tiers a value may land in, and how it is encoded for those that hold bytes. */
export interface Landing {
  hot: HotTier
  warm: WarmTier | undefined
  /** The first lower tier, if any. */
  below: LowerTier | undefined
  /** Encodes, or throws `E_INVALID_VALUE`. */
  encode(value: unknown): Uint8Array
}

/** Throws `E_INVALID_VALUE` when the value could never be stored by the tiers configured. */
export function checkFits(landing: Landing, key: string, value: unknown, codec: Codec): void {
  const below = landing.below
  // A bound of the encoding: the value check's survey when it made one (no second walk), else the heap
  // estimate, over twice what msgpack writes for any value. Encoded only near the limit.
  if (below !== undefined && !below.fits(key, encodedBound(codec, value) ?? 2 * estimateSize(value))) {
    const bytes = landing.encode(value)
    if (!below.fits(key, bytes.byteLength)) {
      throw new CacheError('E_INVALID_VALUE', `the value of '${key}' encodes to ${bytes.byteLength} bytes, more than the ${below.name} tier holds in one entry`)
    }
  }
  if (!landing.hot.accepts(key, value)) encodeBelowHot(landing, key, value)
}

/**
 * The bytes of a value too large for hot, when a tier below can hold them;
 * otherwise `E_INVALID_VALUE`, since no tier could keep the value.
 */
export function encodeBelowHot(landing: Landing, key: string, value: unknown): Uint8Array {
  const { hot, warm, below } = landing
  const tooLarge = (what: string): CacheError => new CacheError('E_INVALID_VALUE', `the value of '${key}' is too large for ${what}: no tier could hold it`)
  if (warm === undefined && below === undefined) throw tooLarge(`hot.maxBytes (${hot.maxBytes})`)
  const bytes = landing.encode(value)
  if (warm?.accepts(key, bytes) === true || below?.fits(key, bytes.byteLength) === true) return bytes
  throw tooLarge(`hot.maxBytes and every tier below (${bytes.byteLength} bytes encoded)`)
}

/** Encodes, or refuses: the reason a value cannot go into a byte tier. */
export function encodeValue(codec: Codec, value: unknown): Uint8Array {
  try {
    return codec.encode(value)
  } catch (error) {
    throw new CacheError('E_INVALID_VALUE', `the codec '${codec.name}' cannot encode the value`, { cause: error })
  }
}
