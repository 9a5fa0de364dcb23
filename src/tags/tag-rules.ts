/**
 * What a valid tag list is, wherever it is checked: at the public API, and
 * for what goes to disk. The bound is what a disk record can hold (a u16 of
 * encoded bytes), and the same without a cold tier, so that adding one never
 * breaks tags that used to work.
 */
export const MAX_TAG_BYTES = 0xffff

// Only tags that UTF-8 gives back as they were: a lone surrogate would come back as U+FFFD.
const LONE_SURROGATE = /\p{Cs}/u

const varintLength = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : 3)

/** The bytes the list takes encoded: per tag, its UTF-8 bytes and one to three bytes of length. */
export function encodedTagsLength(tags: readonly string[]): number {
  let n = 0
  for (const tag of tags) {
    const bytes = Buffer.byteLength(tag, 'utf8')
    n += varintLength(bytes) + bytes
  }
  return n
}

/**
 * Why these tags cannot be stored, or undefined when they can: each a
 * non-empty, well-formed string, the list at most MAX_TAG_BYTES encoded.
 * The caller has checked that `tags` is an array.
 */
export function tagsProblem(tags: readonly unknown[]): string | undefined {
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0) return 'must be an array of non-empty strings'
    if (LONE_SURROGATE.test(tag)) return 'must be well-formed strings (a tag holds a lone surrogate, which UTF-8 cannot store)'
  }
  const bytes = encodedTagsLength(tags as readonly string[])
  if (bytes > MAX_TAG_BYTES) {
    return `must take at most ${MAX_TAG_BYTES} bytes together (UTF-8, plus 1 to 3 bytes of length per tag), got ${bytes}`
  }
  return undefined
}
