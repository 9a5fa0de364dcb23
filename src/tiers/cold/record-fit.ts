import { recordLength, TAGS_LENGTH_BYTES } from './record-format.js'
import { encodedTagsLength } from './tag-codec.js'
import type { ColdTags } from './tier-contract.js'

/** Whether a value's record fits one segment: alone, with given tags, or with the key's current tags. */
export class RecordFit {
  readonly #segmentBytes: number
  readonly #tags: ColdTags | undefined

  constructor(segmentBytes: number, tags: ColdTags | undefined) {
    this.#segmentBytes = segmentBytes
    this.#tags = tags
  }

  /** Tags aside. */
  fits(key: string, encodedBytes: number): boolean {
    return recordLength(Buffer.byteLength(key), encodedBytes) <= this.#segmentBytes
  }

  fitsWith(key: string, encodedBytes: number, tags: readonly string[]): boolean {
    const tagBytes = tags.length === 0 ? 0 : TAGS_LENGTH_BYTES + encodedTagsLength(tags)
    return recordLength(Buffer.byteLength(key), encodedBytes + tagBytes) <= this.#segmentBytes
  }

  fitsWithTags(key: string, encodedBytes: number): boolean {
    const tags = this.#tags?.of(key)
    return tags === undefined ? this.fits(key, encodedBytes) : this.fitsWith(key, encodedBytes, tags)
  }
}
