import type { SchedulerLike } from 'rxjs'
import type { SharedRecords } from '../../codec/shared-records.js'
import type { LowerTierExits } from '../lower-tier.js'
import { ColdStore } from './cold-store.js'
import type { Leaves } from './leaves.js'
import type { ColdTierOptions } from './options.js'
import { ShapesFile } from './shapes-file.js'
import { restoreTags } from './tag-restore.js'
import type { ColdTags } from './tier-contract.js'

/** What opening the store needs of the disk tier. */
export interface OpenHost {
  readonly options: ColdTierOptions
  readonly scheduler: SchedulerLike
  readonly exits: LowerTierExits
  readonly leaves: Leaves
  readonly tags: ColdTags | undefined
  /** The record shapes the local codec shares, saved beside the segments. */
  readonly records: SharedRecords | undefined
  /** Whether the key was written or deleted above meanwhile: what the disk holds of it is not its value. */
  newer(key: string): boolean
  /** Whether a clear came before the open: the disk's tags are about to go. */
  dropRecoveredTags(): boolean
  /** The store is ready to serve: called in the same run as the last step, before anything else sees it. */
  opened(store: ColdStore): void
}

/**
 * Opens the tier's store, as often as the tier asks (a failed open is tried
 * again by its probe): the store, then the record shapes saved beside it
 * (adopted once), then the tags of the keys it holds, back into the tag
 * index. Resolves once a read may be served.
 */
export class TierOpening {
  readonly #host: OpenHost
  /** Where the record shapes of the values it holds are saved, once open (with the default codec). */
  #shapes: ShapesFile | undefined

  constructor(host: OpenHost) {
    this.#host = host
  }

  async open(): Promise<ColdStore> {
    const { options, scheduler, exits, leaves, tags, records } = this.#host
    const store = await ColdStore.open({
      ...options,
      now: () => scheduler.now(),
      onError: (error) => exits.error(error),
      onLeave: (key, reason, tagged) => leaves.leave(key, reason, tagged),
    })
    // Until it is handed over, the store is this open's to close: a later step that fails closes it.
    try {
      if (records !== undefined && this.#shapes === undefined) await this.#adoptShapes(records)
      if (tags !== undefined) await restoreTags(store, tags, this.#host.newer, this.#host.dropRecoveredTags)
    } catch (error) {
      await store.close().catch(() => undefined)
      throw error
    }
    this.#host.opened(store)
    return store
  }

  /** Resolves once no save of the shapes is under way: before the store closes. */
  async settled(): Promise<void> {
    await this.#shapes?.settled()
  }

  /** Before the store serves a read: its values may refer to the shapes saved beside it. */
  async #adoptShapes(records: SharedRecords): Promise<void> {
    const { file, shapes } = await ShapesFile.open(this.#host.options.dir)
    this.#shapes = file
    records.adopt(shapes, (list, from) => file.save(list, from))
  }
}
