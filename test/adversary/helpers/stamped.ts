import { createHash } from 'node:crypto'

/** A value that says which key and which write it belongs to, sealed by a hash: any wrong value is caught, not only a missing one. */
export interface Stamped {
  k: string
  v: number
  h: string
  pad: string
}

const seal = (key: string, version: number, pad: string): string => createHash('sha256').update(`${key}\u0000${version}\u0000${pad}`).digest('hex').slice(0, 16)

/** Version `version` of `key`'s value, `padChars` long in padding (hex, so that LZ4 gets some but not all of it). */
export function stamped(key: string, version: number, padChars = 0): Stamped {
  let pad = ''
  for (let i = 0; pad.length < padChars; i++) pad += seal(key, version, String(i))
  pad = pad.slice(0, padChars)
  return { k: key, v: version, h: seal(key, version, pad), pad }
}

/** The version a value read under `key` carries; throws when it is not an intact value written for that key. */
export function versionOf(key: string, value: unknown): number {
  const s = value as Partial<Stamped> | null
  const intact = typeof s === 'object' && s !== null && s.k === key && typeof s.v === 'number' && typeof s.pad === 'string' && s.h === seal(key, s.v, s.pad)
  if (!intact) throw new Error(`a wrong value for ${key}: ${JSON.stringify(value)?.slice(0, 200)}`)
  return s.v as number
}
