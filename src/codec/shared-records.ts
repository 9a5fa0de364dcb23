import { Packr } from 'msgpackr'
import { packValue } from './pack-tree.js'

/** A record shape: the property names of an object, in order. */
export type RecordShape = readonly string[]

/**
 * Makes `shapes` durable, after the `from` shapes saved before them; resolves
 * once a crash can no longer lose them.
 */
export type SaveShapes = (shapes: readonly RecordShape[], from: number) => Promise<void>

// One byte per record id up to 32 shapes (msgpackr's ids 0x40-0x5f); past
// them a value defines its other shapes inline, as every value did before.
const MAX_SHAPES = 32
// Only shapes that keep the saved table small: a value with a huge or odd
// object still encodes, with that object's shape inline.
const MAX_SHAPE_KEYS = 64
const MAX_SHAPE_CHARS = 1024

const shareable = (keys: readonly string[]): boolean => {
  if (keys.length > MAX_SHAPE_KEYS) return false
  let chars = 0
  for (const key of keys) chars += key.length
  return chars <= MAX_SHAPE_CHARS
}

type State =
  /** Waiting for the saved shapes (the disk not open yet): nothing is shared. */
  | 'waiting'
  /** Shapes are shared; a new one is saved before any value refers to it. */
  | 'sharing'
  /** New shapes are being saved: values are encoded self-described until they are. */
  | 'saving'
  /** The shapes could not be saved: values are encoded self-described from now on. */
  | 'stopped'

/**
 * Record shapes shared by every value one cache keeps itself (warm's bytes
 * and the disk's): a value then refers to its objects' shapes by a one-byte
 * id instead of defining them inside itself, which makes its decode 3-4x
 * faster and its bytes smaller (this is how lmdb keeps msgpack records).
 *
 * The one rule that keeps this safe: **no value refers to a shape that is
 * not saved**. A value whose encoding adds a shape is encoded again
 * self-described, and so is every value until the shape is saved; a value
 * on disk therefore never outlives the shapes it needs, whatever a crash
 * cuts short. Bytes that leave the process (a remote tier, a journal) are
 * encoded without them: another process does not share this table.
 */
export class SharedRecords {
  #packr: Packr
  #shapes: RecordShape[]
  #state: State
  #save: SaveShapes | undefined
  /** Shapes saved: the first `#saved` of `#shapes`. */
  #saved = 0

  /** `persisted`: whether the shapes must be saved (to a disk) before values refer to them; if not, sharing starts at once. */
  constructor(persisted: boolean) {
    this.#shapes = []
    this.#packr = packrFor(this.#shapes)
    this.#state = persisted ? 'waiting' : 'sharing'
  }

  /** Whether values are encoded with shared shapes now. */
  get sharing(): boolean {
    return this.#state === 'sharing'
  }

  /** The shapes in use, the saved ones first. */
  get shapes(): readonly RecordShape[] {
    return this.#shapes
  }

  /**
   * Starts sharing from the shapes saved before (as the store read them
   * back), saving new ones with `save`. Once only: the store's first open.
   */
  adopt(saved: readonly RecordShape[], save: SaveShapes): void {
    if (this.#state !== 'waiting') return
    this.#shapes = saved.slice(0, MAX_SHAPES).map((shape) => [...shape])
    this.#packr = packrFor(this.#shapes)
    this.#saved = this.#shapes.length
    this.#save = save
    this.#state = 'sharing'
  }

  /**
   * `value` packed with shared shapes, or undefined when it must be
   * encoded self-described: not sharing now, or its encoding added a shape
   * that is not saved yet (its save starts). While a save is under way,
   * values are still packed so that the shapes they add are learned and
   * saved next, in one save rather than one after another.
   */
  pack(value: unknown): Uint8Array | undefined {
    const state = this.#state
    if (state === 'waiting' || state === 'stopped') return undefined
    const packed = packValue(this.#packr, value)
    if (this.#save === undefined) return packed
    if (state === 'saving') return undefined
    // Compared with what is saved, not with the count before: an encoding that threw may have added shapes too.
    if (this.#shapes.length === this.#saved) return packed
    this.#saveNew()
    return undefined
  }

  unpack(bytes: Uint8Array): unknown {
    return this.#packr.unpack(bytes)
  }

  #saveNew(): void {
    const from = this.#saved
    const shapes = this.#shapes.slice(from)
    this.#state = 'saving'
    ;(this.#save as SaveShapes)(shapes, from).then(
      () => {
        this.#saved = from + shapes.length
        if (this.#shapes.length > this.#saved) this.#saveNew()
        else this.#state = 'sharing'
      },
      () => {
        this.#state = 'stopped'
      },
    )
  }
}

function packrFor(shapes: RecordShape[]): Packr {
  return new Packr({
    structuredClone: true,
    structures: shapes as string[][],
    maxSharedStructures: MAX_SHAPES,
    shouldShareStructure: shareable,
    // Accepts every new shape: `pack` sees the table grow, and saves it before any value uses it.
    saveStructures: () => undefined,
  })
}
