import type { Codec } from './codec/codec.js'
import { CacheError } from './errors.js'
import { resolveTtl } from './options.js'
import { tagsProblem } from './tiers/cold/tag-codec.js'

export interface EntryOptions {
  /** Time to live in ms, overriding the cache's default; Infinity for none. */
  ttl?: number
  /**
   * Labels for `deleteByTag`: non-empty, well-formed strings, at most 65,535
   * bytes together as UTF-8 with one to three bytes of length each (what a
   * disk record can hold; the bound is the same without a cold tier).
   */
  tags?: string[]
}

export const isValidKey = (key: unknown, maxLength: number): key is string =>
  typeof key === 'string' && key.length !== 0 && key.length <= maxLength

/**
 * `checkKey` for a key about to be written: it must also be well-formed
 * UTF-16, since a lone surrogate cannot be written to disk as UTF-8 and come
 * back as the same key. The rule holds without a cold tier too, so that
 * adding one never breaks keys that used to work. (Native, and O(1) for the
 * one-byte strings most keys are.)
 */
export function checkWrittenKey(key: unknown, maxLength: number): string {
  checkKey(key, maxLength)
  if (!isWellFormed(key as string)) throw illFormedKey()
  return key as string
}

export const isWellFormed = (key: string): boolean => (key as unknown as WellFormedCheck).isWellFormed()

export const illFormedKey = (): CacheError =>
  new CacheError('E_INVALID_KEY', `a key must be a well-formed string: this one holds a lone surrogate, which UTF-8 cannot store`)

/** `String.prototype.isWellFormed` (Node 20+), which this project's ES2022 library does not declare. */
interface WellFormedCheck {
  isWellFormed(): boolean
}

export function invalidKey(key: unknown, maxLength: number): CacheError {
  const shown = typeof key === 'string' ? `a string of length ${key.length}` : describe(key)
  return new CacheError('E_INVALID_KEY', `a key must be a non-empty string of at most ${maxLength} characters, got ${shown}`)
}

export function checkKey(key: unknown, maxLength: number): string {
  if (!isValidKey(key, maxLength)) throw invalidKey(key, maxLength)
  return key
}

/**
 * Throws `E_INVALID_VALUE` for a value the cache cannot hold: undefined, a
 * function, a symbol, and, while a byte tier is configured, anything the codec
 * would not give back as it was.
 */
export function checkValue(value: unknown, codec: Codec | undefined): void {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new CacheError('E_INVALID_VALUE', `${typeof value} cannot be cached (delete the key instead of storing undefined)`)
    case 'object':
      break
    default:
      return
  }
  if (value === null || codec === undefined) return
  let problem: string | undefined
  if (codec.reject !== undefined) problem = codec.reject(value)
  else {
    try {
      codec.encode(value)
    } catch (error) {
      problem = String(error)
    }
  }
  if (problem !== undefined) {
    throw new CacheError('E_INVALID_VALUE', `the codec '${codec.name}' cannot round-trip the value: ${problem}`)
  }
}

/** The entry's ttl (0: none given) and tags, or `E_INVALID_OPTIONS` naming what is wrong. */
export function checkEntryOptions(options: EntryOptions | undefined): { ttl: number; tags: string[] | undefined } {
  if (options === undefined) return NO_OPTIONS
  if (typeof options !== 'object' || options === null) {
    throw new CacheError('E_INVALID_OPTIONS', `option 'options' must be an object, got ${describe(options)}`)
  }
  const ttl = resolveTtl('ttl', options.ttl)
  let tags = options.tags
  if (tags !== undefined) {
    const problem = Array.isArray(tags) ? tagsProblem(tags) : 'must be an array of non-empty strings'
    if (problem !== undefined) throw new CacheError('E_INVALID_OPTIONS', `option 'tags' ${problem}`)
    // Our own copy: the tag index keeps it, and writes it to disk later, as it was checked.
    tags = [...tags]
  }
  return ttl === 0 && tags === undefined ? NO_OPTIONS : { ttl, tags }
}

const NO_OPTIONS = Object.freeze({ ttl: 0, tags: undefined })

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
