import { CacheError } from '../../errors.js'
import { bodyLength, FLAG_TAGS, FLAG_TOMBSTONE, MAX_KEY_BYTES, recordLength } from './record-format.js'
import type { WriteOp } from './segment-writer.js'
import { encodeTags, tagsProblem } from './tag-codec.js'

export interface ColdPut {
  key: string
  value: Uint8Array
  /** ms since epoch; 0 = never. */
  expiresAt: number
  /** 4 bits for the caller (codec id, compression), stored in the record and returned by get. */
  flags?: number
  /**
   * Labels stored in the record with the value (tag-codec.ts: non-empty,
   * well-formed strings, at most 65,535 bytes encoded); returned by get and
   * by `takeRecoveredTags` after a reopen. None or [] stores none.
   */
  tags?: readonly string[]
  /** A tombstone instead of a value (`value` must then be empty): the key's older records are dead. */
  tombstone?: boolean
}

export interface ColdHit {
  value: Uint8Array
  expiresAt: number
  flags: number
  /** Present only for a record written with tags. */
  tags?: string[]
}

export interface ColdStoreStats {
  /** Value records the index points at (expired ones count until compaction finds them). */
  entries: number
  /** Bytes of those records, headers and keys included. */
  bytes: number
  /** Bytes of all segment files. */
  diskBytes: number
  segments: number
  hits: number
  misses: number
  corruptRecords: number
  /** Batches written, fsync rounds, positioned reads. */
  writes: number
  syncs: number
  reads: number
  /** Segments emptied by eviction (size bound) and by compaction. */
  evictions: number
  compactions: number
}

/** Checks one entry and turns it into a record to write; all checks run before anything is written. */
export function toPutOp(e: ColdPut, segmentBytes: number): WriteOp {
  if (typeof e?.key !== 'string' || e.key === '') throw new CacheError('E_INVALID_KEY', 'a cold key must be a non-empty string')
  if (!(e.value instanceof Uint8Array)) throw new CacheError('E_INVALID_VALUE', `value of ${JSON.stringify(e.key)} must be a Uint8Array`)
  if (!(typeof e.expiresAt === 'number' && e.expiresAt >= 0 && Number.isFinite(e.expiresAt))) {
    throw new CacheError('E_INVALID_VALUE', `expiresAt of ${JSON.stringify(e.key)} must be a finite number >= 0 (0 = never)`)
  }
  const flags = e.flags ?? 0
  if (!Number.isInteger(flags) || flags < 0 || flags > 15)
    throw new CacheError('E_INVALID_VALUE', `flags of ${JSON.stringify(e.key)} must be an integer in [0, 15]`)
  let tags: Buffer | undefined
  if (e.tags !== undefined) {
    const problem = Array.isArray(e.tags) ? tagsProblem(e.tags) : 'must be an array of non-empty strings'
    if (problem !== undefined) throw new CacheError('E_INVALID_OPTIONS', `tags of ${JSON.stringify(e.key)} ${problem}`)
    if (e.tags.length > 0) tags = encodeTags(e.tags)
  }
  const keyBytes = Buffer.from(e.key, 'utf8')
  if (e.tombstone === true) {
    if (keyBytes.length > MAX_KEY_BYTES) throw new CacheError('E_INVALID_KEY', `a cold key is at most ${MAX_KEY_BYTES} bytes`)
    return { key: e.key, keyBytes, value: e.value, expiresAt: 0, flags: FLAG_TOMBSTONE }
  }
  const length = recordLength(keyBytes.length, bodyLength(e.value.length, tags))
  if (keyBytes.length > MAX_KEY_BYTES || length > segmentBytes) {
    throw new CacheError(
      'E_INVALID_VALUE',
      `record of ${JSON.stringify(e.key)} is ${length} bytes, more than a segment (${segmentBytes}) or a key over ${MAX_KEY_BYTES} bytes`,
    )
  }
  const op: WriteOp = { key: e.key, keyBytes, value: e.value, expiresAt: e.expiresAt, flags: flags << 4 }
  if (tags !== undefined) {
    op.flags |= FLAG_TAGS
    op.tags = tags
  }
  return op
}
