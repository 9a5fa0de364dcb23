import { Packr } from 'msgpackr'
import { compressSync, uncompressSync } from 'lz4-napi'
import type { Codec } from './codec.js'
import { roundTripProblem, TOO_DEEP } from './round-trip.js'

export interface DefaultCodecOptions {
  /** Encoded values at least this long are compressed with LZ4 when that makes them smaller. */
  compressAbove?: number
}

// The first byte of every encoding says how the rest is stored.
const RAW = 0
const LZ4 = 1

/**
 * msgpackr in structured-clone mode (Date, Map, Set, typed arrays, Buffer,
 * BigInt, RegExp, Error, cycles), then LZ4 above a size threshold.
 */
export function createDefaultCodec(options: DefaultCodecOptions = {}): Codec {
  const compressAbove = options.compressAbove ?? 512
  const packr = new Packr({ structuredClone: true })

  return {
    name: 'msgpackr+lz4',

    encode(value) {
      const packed = packr.pack(value)
      if (packed.length >= compressAbove) {
        const compressed = compressSync(packed)
        if (compressed.length + 1 < packed.length) return framed(LZ4, compressed)
      }
      return framed(RAW, packed)
    },

    decode(bytes) {
      const body = bytes.subarray(1)
      switch (bytes[0]) {
        case RAW:
          return packr.unpack(body)
        case LZ4:
          return packr.unpack(uncompressSync(toBuffer(body)))
        default:
          throw new Error(`unknown encoding tag ${bytes[0]}`)
      }
    },

    reject(value) {
      const problem = roundTripProblem(value)
      if (problem !== TOO_DEEP) return problem
      try {
        packr.pack(value)
        return undefined
      } catch (error) {
        return String(error)
      }
    },
  }
}

// One exact-size allocation: msgpackr's result shares a large scratch buffer
// that must not be kept alive by a stored value.
function framed(tag: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(body.length + 1)
  out[0] = tag
  out.set(body, 1)
  return out
}

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
