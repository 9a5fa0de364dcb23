import { hashKey } from '../policies/key-hash.js'

export interface SuccessorOptions {
  /** `N`: most predecessor keys tracked at once. Default 8192. */
  maxKeys?: number
  /** `W`: a successor of an access of A is a key read within the next `W` accesses. Default 16, at most 255. */
  window?: number
  /** `K`: candidate successors kept per tracked key. Default 4. */
  candidates?: number
  /** `θ`: predict B after A only when the estimate of P(B within W | A) is at least this. Default 0.5. */
  minProbability?: number
  /** `H`: a candidate's counts are halved when its trials reach this, so that old habits fade. Default 8. */
  halveAt?: number
}

const NONE = -1
/** Places are allocated this many at first, then doubled as keys come, up to `maxKeys`. */
const FIRST_PLACES = 256
// The fields of a place's record, in 32-bit words.
/** Position of the key's latest read, modulo 2³². */
const AT = 0
/** FLIP: which half holds the current occurrence's successors; REFERENCED: read since the clock hand passed. */
const FLAGS = 1
const FLIP = 1
const REFERENCED = 2
/** Lengths of half 0 and half 1. */
const LENGTHS = 2
/** Two words of filter per half. */
const FILTERS = 4
/** The candidate place a newcomer would take (see #victim), worked out when the occurrence opens; NONE for none. */
const VICTIM = 8
/** A 32-bit filter of the candidates' hashes: a key whose bit is clear is no candidate. */
const CANDIDATE_FILTER = 9
/** K candidate hashes, then K hits, K trials, then 2 × W successor hashes. */
const CANDIDATES = 10

/**
 * Which keys follow which, learnt from the stream of all callers' reads
 * interleaved: after `user:1` (read by one client, with other clients'
 * reads in between), `settings:1` comes within the next few accesses.
 *
 * **Observation.** Each access of a key A opens an *occurrence* of A, whose
 * successors are the distinct keys read in the next `W` accesses, cut short
 * by the next access of A itself (which closes it). Each such key B is
 * counted once per occurrence (its first read in the window); A is never
 * its own successor.
 *
 * **Admission.** A tracked key A holds at most `K` candidate successors. A
 * key B becomes a candidate of A only when it is a successor of two
 * *consecutive* occurrences of A (the successors of A's previous occurrence
 * are kept, as 32-bit hashes, for that check): a key that followed A once,
 * as another client's read does by chance, is never a candidate. A newcomer
 * takes a free place, or that of the weakest candidate only if that one is
 * no longer predicted (its estimate has fallen below `θ`); otherwise it is
 * not admitted, and may try again at A's next occurrence. A newcomer starts
 * from its own two sightings (2 hits in 2 trials): nothing is inherited
 * from the candidate it replaces.
 *
 * **Estimate and rule.** Per candidate B: `hits`, the occurrences of A
 * since B's admission that B followed, and `trials`, all occurrences of A
 * since then (each counted when it closes). When `trials` reaches `H`, both
 * are halved (a candidate left without hits leaves), so the estimate
 * follows the recent past. On an access of A, B is predicted when
 * `hits ≥ θ × trials`: B followed at least a share θ of A's recent
 * occurrences, and at least two of them in a row (admission). A habit that
 * changes from B to C: C is predicted from A's third occurrence after the
 * change (if A has a free or failing place for it), and B stops being
 * predicted once its share falls below θ.
 *
 * **Memory.** At most `maxKeys` keys are tracked. A new key takes the place
 * of one not read since the clock hand last passed it (CLOCK, second
 * chance), and enters unreferenced, so a stream of one-off keys cycles
 * through the unreferenced places and does not push out keys read again.
 * A place is one record of 32-bit words, so that crediting an occurrence
 * touches one or two cache lines: last position, flags, the two halves'
 * lengths and 64-bit filters, the place a newcomer would take, a 32-bit
 * filter of the candidates (10 words), K candidate hashes, hits and trials
 * (3K), and the successor hashes of the previous and the current
 * occurrence (2W). With the defaults (W = 16, K = 4) that is 54 words =
 * 216 B, plus 8 B for the key's reference, K × 8 B = 32 B for the
 * candidates' references and the `Map` entry from key to place (about
 * 30–40 B in V8); the key strings are the caller's. About 290 B × 8192 ≈
 * 2.3 MiB at the default cap; places are allocated 256 at first, and
 * doubled as keys come.
 *
 * **Cost per access.** A 32-bit FNV-1a hash of the key (O(length)); one
 * `Map.get` (and, for a key not tracked, one `Map.delete` and one
 * `Map.set`); a look back over the last `W` accesses, each open occurrence
 * credited with a filter test of its candidates (then K comparisons), one
 * append and a filter test of its previous occurrence (then, when a place
 * could be given, at most W comparisons); K comparisons to predict. Nothing is allocated beyond
 * what the `Map` update needs (and the doubling of the records, at most
 * log₂(N / 256) times in all): predictions are pushed into the caller's
 * array. About 0.4 µs per access on the shared traces (docs/prefetch.md).
 *
 * 32-bit hashes stand for keys in the windows: two colliding keys can be
 * taken for one another there (odds about W / 2³² per check), never in what
 * is predicted, which is the candidate's own key. Positions are kept modulo
 * 2³²: an occurrence could be taken for open if its key was last read
 * exactly a multiple of 2³² accesses earlier.
 */
export class SuccessorPredictor {
  readonly #maxKeys: number
  readonly #window: number
  readonly #k: number
  readonly #minProbability: number
  readonly #halveAt: number
  /** Words per place, and where each field starts in it. */
  readonly #stride: number
  readonly #hitsAt: number
  readonly #trialsAt: number
  readonly #windowsAt: number

  readonly #index = new Map<string, number>()
  /** Places allocated. */
  #places = 0
  #state = new Int32Array(0)
  #keys: (string | undefined)[] = []
  #candidate: (string | undefined)[] = []
  #size = 0
  #hand = 0

  /** The last `W` accesses: hash, key and place of each; the next goes at `#head`. */
  readonly #ringHash: Int32Array
  readonly #ringKey: (string | undefined)[]
  readonly #ringPlace: Int32Array
  #head = 0
  #position = 0

  constructor(options: SuccessorOptions = {}) {
    const n = (this.#maxKeys = options.maxKeys ?? 8192)
    const w = (this.#window = options.window ?? 16)
    const k = (this.#k = options.candidates ?? 4)
    this.#minProbability = options.minProbability ?? 0.5
    this.#halveAt = options.halveAt ?? 8
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(w) && w >= 1 && w <= 255 && Number.isInteger(k) && k >= 1 && this.#halveAt >= 2)) {
      throw new RangeError('SuccessorPredictor: maxKeys ≥ 1, 1 ≤ window ≤ 255, candidates ≥ 1, halveAt ≥ 2')
    }
    this.#hitsAt = CANDIDATES + k
    this.#trialsAt = CANDIDATES + 2 * k
    this.#windowsAt = CANDIDATES + 3 * k
    this.#stride = this.#windowsAt + 2 * w
    this.#grow(Math.min(n, FIRST_PLACES))
    this.#ringHash = new Int32Array(w)
    this.#ringKey = Array.from({ length: w }, () => undefined)
    this.#ringPlace = new Int32Array(w)
  }

  /** How many keys are tracked now (never more than `maxKeys`). */
  get size(): number {
    return this.#size
  }

  /**
   * Learns from an access of `key`, then pushes into `into` the keys
   * predicted to follow it (none, or the candidates whose estimate is at
   * least `θ`, in the order of their places).
   */
  next(key: string, into: string[]): void {
    const w = this.#window
    const stride = this.#stride
    const state = this.#state
    const hash = hashKey(key) | 0
    const at = this.#position++
    // Credit `key` to the occurrences it follows within the window, back to its own previous read.
    const back = Math.min(at, w)
    const head = this.#head
    const ringHash = this.#ringHash
    const ringPlace = this.#ringPlace
    for (let d = 1, slot = head; d <= back; d++) {
      slot = slot === 0 ? w - 1 : slot - 1
      if (ringHash[slot] === hash && this.#ringKey[slot] === key) break
      // That occurrence is closed if its key was read again since, or its place was given to another key.
      const place = ringPlace[slot]
      if (state[place * stride + AT] === ((at - d) | 0)) this.#credit(place, key, hash)
    }
    let place = this.#index.get(key)
    if (place === undefined) place = this.#track(key)
    else this.#close(place)
    const record = place * stride
    const records = this.#state // #track may have grown it
    records[record + AT] = at | 0
    ringHash[head] = hash
    this.#ringKey[head] = key
    ringPlace[head] = place
    this.#head = head + 1 === w ? 0 : head + 1
    const hitsAt = record + this.#hitsAt
    const trialsAt = record + this.#trialsAt
    for (let c = 0; c < this.#k; c++) {
      const trials = records[trialsAt + c]
      if (trials !== 0 && records[hitsAt + c] >= this.#minProbability * trials) into.push(this.#candidate[place * this.#k + c] as string)
    }
  }

  /** The candidates of `key` with their hits and trials (for tests and diagnostics). */
  candidatesOf(key: string): { key: string; hits: number; trials: number }[] {
    const place = this.#index.get(key)
    if (place === undefined) return []
    const record = place * this.#stride
    const out: { key: string; hits: number; trials: number }[] = []
    for (let c = 0; c < this.#k; c++) {
      const candidate = this.#candidate[place * this.#k + c]
      if (candidate !== undefined) out.push({ key: candidate, hits: this.#state[record + this.#hitsAt + c], trials: this.#state[record + this.#trialsAt + c] })
    }
    return out
  }

  /** `key` was read within the window of the open occurrence of the key at `place`. */
  #credit(place: number, key: string, hash: number): void {
    const state = this.#state
    const k = this.#k
    const record = place * this.#stride
    const word = hash >>> 31
    const bit = 1 << ((hash >>> 26) & 31)
    if ((state[record + CANDIDATE_FILTER] & bit) !== 0) {
      const trialsAt = record + this.#trialsAt
      for (let c = 0; c < k; c++) {
        // A free candidate has no trials.
        if (state[record + CANDIDATES + c] === hash && state[trialsAt + c] !== 0 && this.#candidate[place * k + c] === key) {
          state[record + this.#hitsAt + c]++
          return
        }
      }
    }
    const w = this.#window
    const current = state[record + FLAGS] & FLIP
    const length = state[record + LENGTHS + current]
    if (length < w) {
      state[record + this.#windowsAt + current * w + length] = hash
      state[record + LENGTHS + current] = length + 1
      state[record + FILTERS + 2 * current + word] |= bit
    }
    // Followed the previous occurrence too? A 64-bit filter of its hashes tells most keys that did not at
    // once; and the search is only worth making when a place could be given.
    if ((state[record + FILTERS + 2 * (current ^ 1) + word] & bit) !== 0 && state[record + VICTIM] !== NONE) {
      this.#admit(place, key, hash)
    }
  }

  /** Admits `key` as a candidate if it followed the previous occurrence too, and a place can be given. */
  #admit(place: number, key: string, hash: number): void {
    const state = this.#state
    const w = this.#window
    const k = this.#k
    const record = place * this.#stride
    const previous = (state[record + FLAGS] & FLIP) ^ 1
    let i = record + this.#windowsAt + previous * w
    const end = i + state[record + LENGTHS + previous]
    while (i < end && state[i] !== hash) i++
    if (i === end) return
    // The place worked out at the opening, unless hits since have lifted that candidate back to θ.
    let victim = state[record + VICTIM]
    const trials = state[record + this.#trialsAt + victim]
    if (trials !== 0 && state[record + this.#hitsAt + victim] >= this.#minProbability * trials) {
      victim = this.#victim(record)
      if (victim === NONE) return
    }
    this.#candidate[place * k + victim] = key
    state[record + CANDIDATES + victim] = hash
    // Its own two sightings: the previous occurrence (a trial now) and the open one (a trial when it closes).
    state[record + this.#hitsAt + victim] = 2
    state[record + this.#trialsAt + victim] = 1
    this.#filterCandidates(record)
    state[record + VICTIM] = this.#victim(record)
  }

  /** Rebuilds the filter of the candidates' hashes (after one came or left). */
  #filterCandidates(record: number): void {
    const state = this.#state
    let filter = 0
    for (let c = 0; c < this.#k; c++) {
      if (state[record + this.#trialsAt + c] !== 0) filter |= 1 << ((state[record + CANDIDATES + c] >>> 26) & 31)
    }
    state[record + CANDIDATE_FILTER] = filter
  }

  /** A free candidate place, else that of the weakest candidate no longer predicted; NONE when there is none. */
  #victim(record: number): number {
    const state = this.#state
    const hitsAt = record + this.#hitsAt
    const trialsAt = record + this.#trialsAt
    let victim = NONE
    let weakest = this.#minProbability
    for (let c = 0; c < this.#k; c++) {
      const trials = state[trialsAt + c]
      if (trials === 0) return c
      const estimate = state[hitsAt + c] / trials
      if (estimate < weakest) {
        victim = c
        weakest = estimate
      }
    }
    return victim
  }

  /** The key at `place` is read again: its open occurrence closes. */
  #close(place: number): void {
    const state = this.#state
    const record = place * this.#stride
    const k = this.#k
    let left = false
    for (let c = 0; c < k; c++) {
      if (state[record + this.#trialsAt + c] === 0) continue // a free place
      const trials = state[record + this.#trialsAt + c] + 1
      if (trials < this.#halveAt) {
        state[record + this.#trialsAt + c] = trials
        continue
      }
      const hits = state[record + this.#hitsAt + c] >>> 1
      state[record + this.#hitsAt + c] = hits
      state[record + this.#trialsAt + c] = hits === 0 ? 0 : trials >>> 1
      if (hits === 0) {
        this.#candidate[place * k + c] = undefined
        left = true
      }
    }
    if (left) this.#filterCandidates(record)
    state[record + VICTIM] = this.#victim(record)
    // Referenced; and the current half becomes the previous one, the old previous half is reused, emptied.
    const flags = state[record + FLAGS] ^ FLIP
    state[record + FLAGS] = flags | REFERENCED
    const emptied = flags & FLIP
    state[record + LENGTHS + emptied] = 0
    state[record + FILTERS + 2 * emptied] = 0
    state[record + FILTERS + 2 * emptied + 1] = 0
  }

  /** A place for a key not tracked: a free one, else the first unreferenced one under the clock hand. */
  #track(key: string): number {
    const state = this.#state
    const stride = this.#stride
    let place: number
    if (this.#size < this.#maxKeys) {
      if (this.#size === this.#places) this.#grow(Math.min(this.#maxKeys, 2 * this.#places))
      place = this.#size++
    } else {
      while ((state[this.#hand * stride + FLAGS] & REFERENCED) !== 0) {
        state[this.#hand * stride + FLAGS] &= ~REFERENCED
        this.#hand = this.#hand + 1 === this.#maxKeys ? 0 : this.#hand + 1
      }
      place = this.#hand
      this.#hand = this.#hand + 1 === this.#maxKeys ? 0 : this.#hand + 1
      this.#index.delete(this.#keys[place] as string)
      this.#candidate.fill(undefined, place * this.#k, (place + 1) * this.#k)
    }
    // A new record: unreferenced, both halves empty, no candidates, so the newcomer's place is 0 (VICTIM = 0).
    // The windows are read only under a length.
    const record = place * this.#stride
    this.#state.fill(0, record, record + this.#windowsAt)
    this.#keys[place] = key
    this.#index.set(key, place)
    return place
  }

  /** Room for `places` keys: the records, reallocated and copied (places keep their numbers). */
  #grow(places: number): void {
    const state = new Int32Array(places * this.#stride)
    state.set(this.#state)
    this.#state = state
    const added = places - this.#places
    this.#keys = this.#keys.concat(Array.from({ length: added }, () => undefined))
    this.#candidate = this.#candidate.concat(Array.from({ length: added * this.#k }, () => undefined))
    this.#places = places
  }
}
