import type { Codec } from '../codec/codec.js'
import { CacheError } from '../errors.js'
import type { Notifier } from '../observe/notifier.js'
import { NO_SLOT } from '../policies/index.js'
import type { WarmTier } from '../tiers/memory/warm-tier.js'
import { PeekSnapshots } from './peek-snapshots.js'

/**
 * Warm's bytes as values. The values last seen as objects of the keys warm
 * holds as bytes (what a peek decoded, and what hot held when it went
 * down; values are frozen, so sharing them is safe) are kept by the slot
 * and stamp of their bytes: reads of those bytes give that same object back,
 * so a snapshot stays the same object across moves between tiers.
 */
export class WarmValues<V> {
  readonly #warm: WarmTier
  readonly #codec: Codec
  readonly #notifier: Notifier<V>
  /** Made on the first warm peek or hot-to-warm move. */
  #snapshots: PeekSnapshots<V> | undefined

  constructor(warm: WarmTier, codec: Codec, notifier: Notifier<V>) {
    this.#warm = warm
    this.#codec = codec
    this.#notifier = notifier
  }

  /** The value at `slot`; undefined when its bytes cannot be decoded (the entry is then dropped, and told lost). */
  decode(key: string, slot: number): V | undefined {
    const warm = this.#warm
    const known = this.#snapshots?.get(key, slot, warm.values.stampAt(slot))
    if (known !== undefined) return known
    try {
      // A copy: a codec may keep views of its input in the value (msgpackr's binary values are), and slabs are reused.
      return this.#codec.decode(warm.values.lasting(slot)) as V
    } catch (error) {
      warm.removeAt(slot)
      this.#notifier.lost(key, new CacheError('E_CODEC', `cannot decode the value of '${key}'`, { cause: error }))
      return undefined
    }
  }

  /** The value at `slot` as `peek` last decoded it, while its bytes are unchanged: a stable snapshot. */
  snapshot(key: string, slot: number): V | undefined {
    const value = this.decode(key, slot)
    if (value !== undefined) this.#remember(key, slot, value)
    return value
  }

  /** Warm was just given `value` of `key`, encoded. */
  remember(key: string, value: V): void {
    const slot = this.#warm.slotOf(key)
    if (slot !== NO_SLOT) this.#remember(key, slot, value)
  }

  #remember(key: string, slot: number, value: V): void {
    // A sixteenth of warm's budget in encodings: the decoded copies stay a fraction of what warm holds.
    this.#snapshots ??= new PeekSnapshots<V>(this.#warm.maxBytes / 16)
    const warm = this.#warm
    this.#snapshots.remember(key, slot, warm.values.stampAt(slot), warm.values.lengthAt(slot), value)
  }
}
