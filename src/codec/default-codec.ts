import { Packr } from 'msgpackr'
import { compressSync, uncompressSync } from 'lz4-napi'
import type { Codec } from './codec.js'
import { packValue } from './pack-tree.js'
import { surveyValue, takeSurvey } from './round-trip.js'
import { SharedRecords } from './shared-records.js'

export interface DefaultCodecOptions {
  /** Encoded values at least this long are compressed with LZ4 when that makes them smaller. Default 1,024. */
  compressAbove?: number
}

// Below 1 KiB LZ4 saved 12 % of typical records (~1 KiB as JSON, 724 B packed)
// for ~5 µs an encode and ~1.5 µs a decode: a quarter of a write through the
// public API. Frames say whether they are compressed, so data written with
// any threshold reads back.
const COMPRESS_ABOVE = 1024

/**
 * What a value's size counts besides its msgpack bytes (before compression),
 * for `maxValueBytes`: encoding and decoding time follow the number of values
 * and objects more than their bytes. Measured on msgpackr 2.1: about 0.45 µs
 * to encode or decode an (empty) object, array, Map or Set, 9 ns a null in an
 * array, 0.3-5 ns a byte of a string or Buffer; with these weights, any value
 * of 1 MiB encodes and decodes in under 10 ms.
 */
const VALUE_WEIGHT = 1
const OBJECT_WEIGHT = 64

/** Codecs whose encoding the survey of their `check` bounds: default codecs, and wrappers that encode with one. */
const surveyBounded = new WeakSet<Codec>()

/** For a default codec (or a wrapper of one): its twin for the bytes one cache keeps itself, with shared record shapes. */
const localTwins = new WeakMap<Codec, (records: SharedRecords) => Codec>()

/**
 * Marks `wrapper` as encoding what `inner` encodes, so that `encodedBound`
 * trusts its surveys too; `rewrap` makes the same wrapper around `inner`'s
 * local twin (see `localCodec`).
 */
export function encodesLike(wrapper: Codec, inner: Codec, rewrap?: (inner: Codec) => Codec): void {
  if (surveyBounded.has(inner)) surveyBounded.add(wrapper)
  const twin = localTwins.get(inner)
  if (twin !== undefined && rewrap !== undefined) localTwins.set(wrapper, (records) => rewrap(twin(records)))
}

/**
 * The codec for the bytes a cache keeps itself (warm's, the disk's), and
 * the record shapes it shares across them: for a default codec, a twin that
 * encodes with shapes shared through `records` and decodes both forms; any
 * other codec as it is. `persisted`: a disk keeps those bytes, so the shapes
 * must be saved with it before values refer to them (the disk tier adopts
 * `records` when it opens).
 */
export function localCodec(codec: Codec, persisted: boolean): { codec: Codec; records?: SharedRecords } {
  const twin = localTwins.get(codec)
  if (twin === undefined) return { codec }
  const records = new SharedRecords(persisted)
  return { codec: twin(records), records }
}

/**
 * At least `codec.encode(value)`'s length, from the survey that `codec`'s
 * `check` (or `reject`) just made of `value`, taken once: a fit check after
 * the value check needs no second walk. Undefined for any other codec, or
 * when the last survey was of another value.
 */
export function encodedBound(codec: Codec, value: unknown): number | undefined {
  if (!surveyBounded.has(codec)) return undefined
  const survey = takeSurvey(value)
  // One tag byte; LZ4's output is kept only when smaller.
  return survey === undefined ? undefined : survey.maxPackedBytes + 1
}

// The first byte of every encoding says how the rest is stored: self-described
// (any process can decode it), or with record shapes shared by one cache's
// local bytes (only that cache can).
const RAW = 0
const LZ4 = 1
const SHARED_RAW = 2
const SHARED_LZ4 = 3

/**
 * msgpackr in structured-clone mode (Date, Map, Set, typed arrays, Buffer,
 * BigInt, RegExp, Error, cycles), then LZ4 above a size threshold.
 */
export function createDefaultCodec(options: DefaultCodecOptions = {}): Codec {
  const compressAbove = options.compressAbove ?? COMPRESS_ABOVE
  const packr = new Packr({ structuredClone: true })
  const encodeAs = (raw: number, compressed: number, packed: Uint8Array): Buffer => {
    if (packed.length >= compressAbove) {
      const body = compressSync(toBuffer(packed))
      if (body.length + 1 < packed.length) return framed(compressed, body)
    }
    return framed(raw, packed)
  }

  const codec: Codec = {
    name: 'msgpackr+lz4',

    encode: (value) => encodeAs(RAW, LZ4, packValue(packr, value)),

    decode(bytes) {
      switch (bytes[0]) {
        case RAW:
          return packr.unpack(bytes.subarray(1))
        case LZ4:
          return packr.unpack(uncompressSync(toBuffer(bytes.subarray(1))))
        case SHARED_RAW:
        case SHARED_LZ4:
          throw new Error('the value refers to record shapes shared by the bytes of one cache, and only that cache can decode it')
        default:
          throw new Error(`unknown encoding tag ${bytes[0]}`)
      }
    },

    reject(value) {
      return surveyValue(value).problem
    },

    // The bound from the walk first: the value is encoded only when that bound is over the limit.
    check(value, maxBytes) {
      const survey = surveyValue(value)
      if (survey.problem !== undefined) return survey.problem
      const weight = survey.values * VALUE_WEIGHT + survey.objects * OBJECT_WEIGHT
      if (survey.maxPackedBytes + weight <= maxBytes) return undefined
      const size = packr.pack(value).length + weight
      return size > maxBytes ? size : undefined
    },
  }
  surveyBounded.add(codec)
  localTwins.set(codec, (records) => {
    const local: Codec = {
      ...codec,
      encode(value) {
        const shared = records.pack(value)
        return shared === undefined ? codec.encode(value) : encodeAs(SHARED_RAW, SHARED_LZ4, shared)
      },
      decode(bytes) {
        switch (bytes[0]) {
          case SHARED_RAW:
            return records.unpack(bytes.subarray(1))
          case SHARED_LZ4:
            return records.unpack(uncompressSync(toBuffer(bytes.subarray(1))))
          default:
            return codec.decode(bytes)
        }
      },
    }
    // Shared shapes only shorten an encoding: the survey's bound holds for the twin too.
    surveyBounded.add(local)
    return local
  })
  return codec
}

// One exact-size allocation: msgpackr's result shares a large scratch buffer
// that must not be kept alive by a stored value.
function framed(tag: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(body.length + 1)
  out[0] = tag
  out.set(body, 1)
  return out
}

const toBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
