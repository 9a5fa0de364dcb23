import type { Codec } from '../codec/codec.js'
import { asCacheError, CacheError } from '../errors.js'
import { resolveTtl } from '../options/options.js'
import { tagsProblem } from '../tags/tag-rules.js'
import { estimateSize } from '../tiers/memory/estimate-size.js'
import type { EntryOptions } from '../cache.js'
import { isWellFormed } from '../codec/well-formed.js'

export const isValidKey = (key: unknown, maxLength: number): key is string => typeof key === 'string' && key.length !== 0 && key.length <= maxLength

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

export const illFormedKey = (): CacheError =>
  new CacheError('E_INVALID_KEY', `a key must be a well-formed string: this one holds a lone surrogate, which UTF-8 cannot store`)

export function invalidKey(key: unknown, maxLength: number): CacheError {
  const shown = typeof key === 'string' ? `a string of length ${key.length}` : describe(key)
  return new CacheError('E_INVALID_KEY', `a key must be a non-empty string of at most ${maxLength} characters, got ${shown}`)
}

export function checkKey(key: unknown, maxLength: number): string {
  if (!isValidKey(key, maxLength)) throw invalidKey(key, maxLength)
  return key
}

/** The keys of a bulk call: an array of keys, each as `checkKey` wants it. */
export function checkKeys(keys: unknown, maxLength: number): string[] {
  if (!Array.isArray(keys)) throw new CacheError('E_INVALID_OPTIONS', `argument 'keys' must be an array of keys`)
  for (const key of keys) checkKey(key, maxLength)
  return keys
}

export function checkTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag.length === 0) throw new CacheError('E_INVALID_OPTIONS', `argument 'tag' must be a non-empty string`)
  return tag
}

export function checkFactory(factory: unknown): void {
  if (typeof factory !== 'function') throw new CacheError('E_INVALID_OPTIONS', `argument 'factory' must be a function`)
}

/**
 * The entries of `setMany`, each an object with a key a write takes, a value
 * that `checkValue` accepts and valid options: the options of each, in order.
 */
export function checkEntries<V>(
  entries: unknown,
  maxLength: number,
  checkValue: (key: string, value: V) => void,
): { ttl: number; tags: string[] | undefined }[] {
  if (!Array.isArray(entries)) throw new CacheError('E_INVALID_OPTIONS', `argument 'entries' must be an array`)
  return entries.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) {
      throw new CacheError('E_INVALID_OPTIONS', `every entry must be an object with key and value`)
    }
    const { key, value } = entry as { key: unknown; value: V }
    checkValue(checkWrittenKey(key, maxLength), value)
    return checkEntryOptions(entry as EntryOptions, ENTRY_FIELDS)
  })
}

/** What a value must meet to be written. */
export interface ValueRules {
  /** The codec that must give every value back, or undefined while only live objects are held. */
  codec: Codec | undefined
  maxValueBytes: number
  /** Whether the hot tier reads the value's heap estimate (a `hot.maxBytes`): then it is read here first. */
  heapBounded: boolean
}

/**
 * Throws `E_INVALID_VALUE` for a value the cache cannot hold: undefined, a
 * function, a symbol; while a byte tier is configured, anything the codec
 * would not give back as it was; a value over `maxValueBytes`; and a value
 * that throws when read (a getter, a revoked Proxy), with that error as its
 * cause.
 */
export function checkValue(value: unknown, rules: ValueRules): void {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      throw new CacheError('E_INVALID_VALUE', `${typeof value} cannot be cached (delete the key instead of storing undefined)`)
    case 'number':
    case 'boolean':
      return
  }
  if (value === null) return
  let found: string | number | undefined
  try {
    found = rules.codec === undefined ? heapProblem(value, rules) : codecProblem(value, rules.codec, rules.maxValueBytes)
  } catch (error) {
    throw unreadableValue(error)
  }
  if (typeof found === 'number') throw tooLarge(found, rules)
  if (found !== undefined) throw new CacheError('E_INVALID_VALUE', `the codec '${(rules.codec as Codec).name}' cannot round-trip the value: ${found}`)
}

/** A value that threw when read, as the error a write rejects with; a `CacheError` as it is. */
export const unreadableValue = (error: unknown): CacheError => asCacheError(error, 'E_INVALID_VALUE', `reading the value threw (${String(error)})`)

function heapProblem(value: unknown, rules: ValueRules): number | undefined {
  // Live objects are never encoded, so no size can stall the loop: measured only for a heap-bounded hot tier.
  if (rules.maxValueBytes === Infinity || !rules.heapBounded) return undefined
  const size = estimateSize(value, rules.maxValueBytes)
  return size > rules.maxValueBytes ? size : undefined
}

function codecProblem(value: unknown, codec: Codec, maxBytes: number): string | number | undefined {
  if (codec.check !== undefined) return codec.check(value, maxBytes)
  if (codec.reject !== undefined) {
    const problem = codec.reject(value)
    if (problem !== undefined || maxBytes === Infinity) return problem
  }
  let size: number
  try {
    size = codec.encode(value).byteLength
  } catch (error) {
    throw new CacheError('E_INVALID_VALUE', `the codec '${codec.name}' cannot encode the value (${String(error)})`, { cause: error })
  }
  return size > maxBytes ? size : undefined
}

function tooLarge(size: number, rules: ValueRules): CacheError {
  const measured =
    rules.codec === undefined
      ? `its heap estimate is at least ${size} bytes`
      : rules.codec.check !== undefined
        ? `its size as the codec '${rules.codec.name}' counts it is ${size} bytes`
        : `it encodes to ${size} bytes`
  return new CacheError('E_INVALID_VALUE', `the value is larger than maxValueBytes (${rules.maxValueBytes}): ${measured}`)
}

/**
 * The entry's ttl (0: none given) and tags, or `E_INVALID_OPTIONS` naming
 * what is wrong: a misspelt option would otherwise be dropped unseen. `known`
 * are the names the object may hold (a `setMany` entry holds its key and
 * value too).
 */
export function checkEntryOptions(options: EntryOptions | undefined, known: readonly string[] = ENTRY_OPTIONS): { ttl: number; tags: string[] | undefined } {
  if (options === undefined) return NO_OPTIONS
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new CacheError('E_INVALID_OPTIONS', `option 'options' must be an object, got ${describe(options)}`)
  }
  for (const name in options) {
    if (!known.includes(name)) {
      throw new CacheError('E_INVALID_OPTIONS', `option '${name}' is not a known option (${known.join(', ')})`)
    }
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

const ENTRY_OPTIONS: readonly string[] = ['ttl', 'tags']
/** What a `setMany` entry may hold. */
const ENTRY_FIELDS: readonly string[] = ['key', 'value', 'ttl', 'tags']

const NO_OPTIONS = Object.freeze({ ttl: 0, tags: undefined })

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
