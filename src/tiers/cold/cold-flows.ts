import type { Observable, SchedulerLike, Subscription } from 'rxjs'
import { demote } from '../../../streams/demote.js'
import { maintain } from '../../../streams/maintain.js'
import type { LowerEntry } from '../lower-tier.js'
import type { FsyncMode } from './options.js'

// Demotions gather for this long before one group-committed write.
const BATCH_WINDOW_MS = 10
const MAX_BATCH = 512
const MAINTENANCE_PERIOD_MS = 1000

/** What the disk tier's flows drive. */
export interface ColdFlowHost {
  /** Staged entries and owed tombstones, on their way down. */
  readonly evictions: Observable<LowerEntry>
  /** A staged entry expired before its batch left. */
  expired(entry: LowerEntry): void
  /** A batch to write, at the end of its window. */
  writeDown(batch: readonly LowerEntry[]): void
  /** One slice of compaction and size enforcement; true while more is due. */
  maintain(): Promise<boolean>
  sync(): Promise<void>
  reportError(error: unknown): void
}

/**
 * The disk tier's timed work, all on the cache's scheduler: demotions
 * batched by the `demote` flow (10 ms windows, at most 512 entries), the
 * maintenance slices every second, and the fsync ticks under 'interval'.
 */
export function coldFlows(host: ColdFlowHost, fsync: FsyncMode, fsyncInterval: number, scheduler: SchedulerLike): Subscription[] {
  const onError = (error: unknown): void => host.reportError(error)
  const flows = [
    host.evictions
      .pipe(demote({ batchWindow: BATCH_WINDOW_MS, maxBatch: MAX_BATCH, expired: (entry) => host.expired(entry) }, scheduler))
      .subscribe((batch) => host.writeDown(batch)),
    maintain({ period: MAINTENANCE_PERIOD_MS, slice: () => host.maintain(), onError }, scheduler).subscribe(),
  ]
  if (fsync === 'interval') {
    const sync = async (): Promise<boolean> => (await host.sync(), false)
    flows.push(maintain({ period: fsyncInterval, slice: sync, onError }, scheduler).subscribe())
  }
  return flows
}
