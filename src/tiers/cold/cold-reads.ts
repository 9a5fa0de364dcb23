import { CacheError } from '../../errors.js'
import type { IndexEntry } from './cold-index.js'
import { FLAG_TAGS, HEADER_BYTES, TAGS_LENGTH_BYTES, verifyReadBack } from './record-format.js'
import { SegmentRead, SegmentReader } from './segment-reader.js'
import type { SegmentSet } from './segment-set.js'
import { decodeTags } from './tag-codec.js'
import type { ColdHit } from './types.js'

/** Every miss answers with this one settled promise: no allocation. */
const MISS: Promise<undefined> = Promise.resolve(undefined)

export interface ColdReadOptions {
  /** Decode the tags of tagged records into `ColdHit.tags` (default true); false skips that work. */
  tags?: boolean
}

/** What reads need of the store around them. */
export interface ColdReadHost {
  /** The key's entry when it holds a readable, unexpired value. */
  live(key: string): IndexEntry | undefined
  /** The key's record passed its check: it was read since written. */
  accessed(key: string): void
  /** The key's record at (seg, offset) failed its check. */
  corrupt(key: string, seg: number, offset: number): void
}

/** The keys of one getMany: one promise for all of them. */
interface ManyRead {
  results: (ColdHit | undefined)[]
  left: number
  failed: boolean
  resolve: (hits: (ColdHit | undefined)[]) => void
  reject: (error: unknown) => void
}

/** One key being read: where the index found it, and whom to tell (a get's promise, or its place in a getMany). */
class KeyRead extends SegmentRead {
  seq: number
  attempt = 0
  resolve: ((hit: ColdHit | undefined) => void) | undefined = undefined
  reject: ((error: unknown) => void) | undefined = undefined
  batch: ManyRead | undefined = undefined
  at = 0

  constructor(
    readonly key: string,
    e: IndexEntry,
    readonly tags: boolean,
  ) {
    super(e.seg, e.offset, e.length)
    this.seq = e.seq
  }
}

/**
 * The store's read path: a key's record read by position, checked by CRC,
 * its value copied out. One promise and one `KeyRead` per key; the reader
 * calls back when the read ends, into a buffer it reuses.
 */
export class ColdReads {
  readonly #dir: string
  readonly #host: ColdReadHost
  readonly #reader: SegmentReader<KeyRead>
  /** Key reads not yet settled, and whoever waits for them to end. */
  #reading = 0
  #ended: (() => void) | undefined
  hits = 0
  misses = 0

  constructor(segments: SegmentSet, dir: string, concurrency: number, host: ColdReadHost) {
    this.#dir = dir
    this.#host = host
    this.#reader = new SegmentReader<KeyRead>(segments, concurrency, (r, error, buf, filled) => this.#readDone(r, error, buf, filled))
  }

  /** Positioned reads made so far. */
  get reads(): number {
    return this.#reader.reads
  }

  get(key: string, options?: ColdReadOptions): Promise<ColdHit | undefined> {
    const e = this.#host.live(key)
    if (e === undefined) {
      this.misses++
      return MISS
    }
    const tags = options?.tags !== false
    return new Promise((resolve, reject) => {
      const r = new KeyRead(key, e, tags)
      r.resolve = resolve
      r.reject = reject
      this.#reading++
      this.#reader.submit(r)
    })
  }

  getMany(keys: readonly string[], options?: ColdReadOptions): Promise<(ColdHit | undefined)[]> {
    const tags = options?.tags !== false
    return new Promise((resolve, reject) => {
      const batch: ManyRead = { results: new Array<ColdHit | undefined>(keys.length), left: 0, failed: false, resolve, reject }
      const reads: KeyRead[] = []
      for (let i = 0; i < keys.length; i++) {
        batch.results[i] = undefined
        const e = this.#host.live(keys[i])
        if (e === undefined) {
          this.misses++
          continue
        }
        const r = new KeyRead(keys[i], e, tags)
        r.batch = batch
        r.at = i
        reads.push(r)
      }
      batch.left = reads.length
      if (reads.length === 0) return resolve(batch.results)
      // Counted whole before any is submitted: a read may end inside submit().
      this.#reading += reads.length
      for (const r of reads) this.#reader.submit(r)
    })
  }

  /** Resolves once every read under way has ended. */
  idle(): Promise<void> {
    if (this.#reading === 0) return Promise.resolve()
    return new Promise<void>((resolve) => (this.#ended = resolve))
  }

  /** The reader's callback, once per positioned read; `buf` is reused after this returns. */
  #readDone(r: KeyRead, error: Error | null, buf: Buffer | undefined, filled: number): void {
    try {
      if (error !== null) {
        this.#failed(r, new CacheError('E_IO', `reading ${r.key} from ${this.#dir}: ${error.message}`, { cause: error }))
      } else if (buf === undefined) {
        this.#reread(r)
      } else {
        this.#settled(r, this.#hit(r, buf, filled))
      }
    } catch (e) {
      // onError or onLeave threw: the read fails with it, as an async get would have.
      this.#failed(r, e)
    }
  }

  /** Its segment went away mid-read (compaction moved it, or eviction dropped it): look the key up again. */
  #reread(r: KeyRead): void {
    if (r.attempt >= 2) return this.#settled(r, undefined)
    const e = this.#host.live(r.key)
    if (e === undefined) {
      this.misses++
      return this.#settled(r, undefined)
    }
    r.attempt++
    r.seg = e.seg
    r.offset = e.offset
    r.length = e.length
    r.seq = e.seq
    this.#reader.submit(r)
  }

  /** Checks the record in `buf[0, filled)` and copies out its value; undefined when it fails the check. */
  #hit(r: KeyRead, buf: Buffer, filled: number): ColdHit | undefined {
    const key = r.key
    const record = buf.subarray(0, filled)
    const h = verifyReadBack(record, key, Buffer.byteLength(key), r.seq)
    if (h === undefined) {
      this.misses++
      this.#host.corrupt(key, r.seg, r.offset)
      return undefined
    }
    this.hits++
    this.#host.accessed(key)
    let start = HEADER_BYTES + h.keyLength
    let tags: string[] | undefined
    if ((h.flags & FLAG_TAGS) !== 0) {
      // Verified above: the u16 tag-list length and the list lie inside the body.
      const end = start + TAGS_LENGTH_BYTES + record.readUInt16LE(start)
      if (r.tags) tags = decodeTags(record.subarray(start + TAGS_LENGTH_BYTES, end))
      start = end
    }
    // A copy, never a view: `buf` is the reader's to reuse.
    const value = Buffer.allocUnsafe(filled - start)
    record.copy(value, 0, start, filled)
    const hit: ColdHit = { value, expiresAt: h.expiresAt, flags: h.flags >> 4 }
    if (tags !== undefined) hit.tags = tags
    return hit
  }

  #settled(r: KeyRead, hit: ColdHit | undefined): void {
    const batch = r.batch
    if (batch === undefined) r.resolve!(hit)
    else {
      batch.results[r.at] = hit
      if (--batch.left === 0 && !batch.failed) batch.resolve(batch.results)
    }
    this.#readEnded()
  }

  #failed(r: KeyRead, error: unknown): void {
    const batch = r.batch
    if (batch === undefined) r.reject!(error)
    else if (!batch.failed) {
      batch.failed = true
      batch.reject(error)
    }
    this.#readEnded()
  }

  #readEnded(): void {
    if (--this.#reading === 0 && this.#ended !== undefined) {
      const ended = this.#ended
      this.#ended = undefined
      ended()
    }
  }
}
