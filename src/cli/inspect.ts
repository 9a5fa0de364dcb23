import { asyncScheduler } from 'rxjs'
import { table, humanBytes, percent, plural } from './format.js'
import { scanStore, type StoreReport } from './store-scan.js'

export interface InspectOptions {
  json?: boolean
  /** Judge expiry at this time (ms since epoch) instead of now. */
  now?: number
}

/** Tags named in the text output; --json lists every one. */
const TAGS_SHOWN = 10

/**
 * `strata-cache inspect DIR`: per segment, its size, live and dead bytes,
 * live values, tombstones and corrupt regions, then totals, then the tags of
 * the live entries (how many carry each). Read-only: the store may be open in
 * another process, in which case it is a snapshot.
 */
export async function inspect(dir: string, opts: InspectOptions, out: (text: string) => void): Promise<number> {
  // A tool run by hand judges expiry on the clock of the cache's default scheduler.
  const report = await scanStore(dir, opts.now ?? asyncScheduler.now())
  out(opts.json === true ? JSON.stringify(report, null, 2) : render(report))
  return 0
}

function render(r: StoreReport): string {
  const t = r.totals
  const row = (file: string, s: { size: number; live: number; dead: number; entries: number; tombstones: number }, corrupt: number, hint: string): string[] => [
    file,
    String(s.size),
    String(s.live),
    String(s.dead),
    percent(s.dead, s.size),
    String(s.entries),
    String(s.tombstones),
    String(corrupt),
    hint,
  ]
  const rows = r.segments.map((s) => row(s.file, s, s.corrupt.length, s.hint))
  rows.push(row('total', t, t.corrupt, ''))
  const lock = r.lock === null ? 'not locked' : `LOCK file names pid ${r.lock.pid} on ${r.lock.host} (while it runs, these figures are a snapshot)`
  return [
    `store ${r.dir}: ${plural(t.segments, 'segment')}, ${lock}`,
    '',
    table(['file', 'size', 'live', 'dead', 'dead%', 'entries', 'tombstones', 'corrupt', 'hint'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'left',
    ]),
    '',
    `${humanBytes(t.size)} in segments (${humanBytes(t.live)} live, ${percent(t.dead, t.size)} dead), ` +
      `${humanBytes(t.hintBytes)} in hints; ${plural(t.entries, 'live entry', 'live entries')}, ` +
      `${plural(t.records, 'record')}, ${plural(t.corrupt, 'corrupt region')}`,
    tagLine(r),
  ].join('\n')
}

/** "tags: 12 of 40 live entries tagged; users 10, admins 2" (the most used first). */
function tagLine(r: StoreReport): string {
  const all = Object.entries(r.tags)
  if (all.length === 0) return 'tags: none on live entries'
  const shown = all.slice(0, TAGS_SHOWN).map(([tag, n]) => `${JSON.stringify(tag)} ${n}`)
  const more = all.length > TAGS_SHOWN ? `, and ${plural(all.length - TAGS_SHOWN, 'more tag')} (see --json)` : ''
  return `tags: ${r.totals.tagged} of ${plural(r.totals.entries, 'live entry', 'live entries')} tagged; ${shown.join(', ')}${more}`
}
