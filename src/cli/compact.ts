import { asyncScheduler } from 'rxjs'
import { isCacheError } from '../errors.js'
import { ColdStore } from '../tiers/cold/index.js'
import { CliError, EXIT_OK } from './cli-error.js'
import { humanBytes, plural } from './format.js'
import { scanStore, type StoreReport } from './store-scan.js'

export interface CompactOptions {
  /** Size of the segments compaction writes; default the largest existing segment's. */
  segmentBytes?: number
}

/** Far above any disk: compaction must never turn into eviction, which drops unread entries. */
const NO_BOUND = 2 ** 50
/** Any dead byte makes a sealed segment due (the option must be > 0). */
const ANY_DEAD = Number.EPSILON
const MIN_SEGMENT = 4096
const MAX_SEGMENT = 1 << 30
const SLICE = 16 << 20

/**
 * `strata-cache compact DIR`: opens a closed store (taking its lock, so a
 * store in use fails with E_LOCKED) and runs the engine's own compaction
 * until no segment holds a dead byte. The engine leaves the active (newest)
 * segment alone, so when that one has dead bytes, a first open with a
 * segment size equal to its size seals it: recovery then starts a fresh
 * segment and the old one becomes compactable like the rest.
 */
export async function compact(dir: string, opts: CompactOptions, out: (text: string) => void): Promise<number> {
  // Run by hand: expiry is judged on the clock of the cache's default scheduler.
  const before = await scanStore(dir, asyncScheduler.now())
  const newest = before.segments[before.segments.length - 1]
  const largest = Math.max(...before.segments.map((s) => s.size))
  const segmentBytes = opts.segmentBytes ?? Math.min(MAX_SEGMENT, Math.max(MIN_SEGMENT, largest))
  out(`before: ${diskLine(before)}`)
  if (before.totals.corrupt > 0) {
    out(`warning: ${plural(before.totals.corrupt, 'corrupt region')} (see verify); compaction drops them with whatever they held`)
  }

  const warnings: string[] = []
  const open = (segBytes: number): Promise<ColdStore> =>
    ColdStore.open({
      dir,
      now: () => asyncScheduler.now(),
      maxBytes: NO_BOUND,
      segmentBytes: segBytes,
      compactionThreshold: ANY_DEAD,
      onError: (e) => warnings.push(e.message),
    }).catch((e: unknown) => {
      throw isCacheError(e) ? new CliError(e.message) : e
    })

  if (newest.dead > 0 && newest.size >= 256 && newest.size < segmentBytes) await (await open(newest.size)).close()

  const store = await open(segmentBytes)
  let compacted: number
  try {
    // Each round reads about SLICE bytes; a bound on rounds guards against a store that never settles.
    const maxRounds = Math.ceil((4 * before.totals.size) / SLICE) + 64
    let rounds = 0
    while ((await store.maintain(SLICE)) && ++rounds < maxRounds);
    if (rounds >= maxRounds) warnings.push(`stopped after ${rounds} rounds with compaction still due`)
    compacted = store.stats().compactions
  } finally {
    await store.close()
  }

  const after = await scanStore(dir, asyncScheduler.now())
  for (const w of warnings) out(`warning: ${w}`)
  out(`after:  ${diskLine(after)}`)
  const saved = before.totals.size + before.totals.hintBytes - (after.totals.size + after.totals.hintBytes)
  out(`${plural(compacted, 'segment')} compacted, ${humanBytes(Math.max(0, saved))} (${Math.max(0, saved)} bytes) freed`)
  return EXIT_OK
}

function diskLine(r: StoreReport): string {
  const t = r.totals
  const disk = t.size + t.hintBytes
  return `${disk} bytes on disk (${humanBytes(disk)}) in ${plural(t.segments, 'segment')}, ${t.live} live bytes in ${plural(t.entries, 'entry', 'entries')}`
}
