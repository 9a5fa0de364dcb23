/**
 * The tags of one record, as stored in its body (see record-format.ts) and in
 * hint files: per tag, its UTF-8 byte length as an unsigned LEB128 varint (one
 * byte below 128, at most three), then the bytes. At least one tag, none
 * empty, in the order given. Unambiguous for any string (no separator to
 * escape), and one byte of overhead per tag of the usual length.
 *
 * The whole list is bounded by the u16 that precedes it in a record.
 */
import { encodedTagsLength } from '../../tags/tag-rules.js'

// Cold's callers and tests know the rule from here; it is defined in src/tags/ for the facade too.
export { MAX_TAG_BYTES, encodedTagsLength, tagsProblem } from '../../tags/tag-rules.js'

/** The encoded list; the caller has checked it with `tagsProblem` and that it is not empty. */
export function encodeTags(tags: readonly string[]): Buffer {
  const buf = Buffer.allocUnsafe(encodedTagsLength(tags))
  let at = 0
  for (const tag of tags) {
    let n = Buffer.byteLength(tag, 'utf8')
    while (n >= 0x80) {
      buf[at++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    buf[at++] = n
    at += buf.write(tag, at, 'utf8')
  }
  return buf
}

/**
 * Walks the list in buf[start, end): for each tag, `each(from, to)` with its
 * bytes. False when the bytes are not exactly such a list (a length past the
 * end, an empty tag, a varint longer or wider than the encoder writes, no tag).
 */
function walk(buf: Uint8Array, start: number, end: number, each?: (from: number, to: number) => void): boolean {
  if (start >= end) return false
  let at = start
  while (at < end) {
    let n = 0
    for (let shift = 0; ; shift += 7) {
      if (at >= end || shift > 14) return false
      const b = buf[at++]
      n |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) {
        if (b === 0 && shift > 0) return false // not the shortest form
        break
      }
    }
    if (n === 0 || at + n > end) return false
    each?.(at, at + n)
    at += n
  }
  return true
}

/** True when buf[start, end) holds a well-formed tag list. */
export const isTagList = (buf: Uint8Array, start: number, end: number): boolean => walk(buf, start, end)

/**
 * The tags in buf[start, end), or undefined when the bytes are not a tag list.
 * `intern` may swap each decoded tag for an equal string already held.
 */
export function decodeTags(buf: Buffer, start = 0, end = buf.length, intern?: (tag: string) => string): string[] | undefined {
  const tags: string[] = []
  const each = (from: number, to: number): void => {
    const tag = buf.toString('utf8', from, to)
    tags.push(intern === undefined ? tag : intern(tag))
  }
  return walk(buf, start, end, each) ? tags : undefined
}
