/**
 * The arithmetic and the tables of the hit-ratio suite: hit ratios, the share
 * of the LRU→OPT gap each policy closes, the summary, the targets, and the
 * console and Markdown forms of all of it.
 */
import os from 'node:os'
import type { Replay } from './replay.js'

/** One trace at one cache size. */
export interface Row {
  trace: string
  size: number
  requests: number
  distinct: number
  /** Bélády, every missed key admitted: the bound for policies that always admit. */
  opt: Replay
  /** Bélády allowed to leave a missed key out: information only. */
  optBypass: number
  /** lru-cache as users run it: the LRU of every comparison. */
  lru: Replay
  /** Each policy of `POLICY_NAMES` through the hot tier. */
  policies: Record<string, Replay>
}

export interface Machine {
  cpu: string
  cores: number
  memory: string
  node: string
  os: string
  date: string
}

export const machine = (): Machine => ({
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism(),
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
})

/** Hit ratio in percent. */
export const percent = (hits: number, row: Row): number => (100 * hits) / row.requests

/** (p − lru) / (opt − lru); undefined when OPT and LRU tie (no gap to close). */
export function gapClosed(hits: number, row: Row): number | undefined {
  const gap = row.opt.hits - row.lru.hits
  return gap === 0 ? undefined : (hits - row.lru.hits) / gap
}

export interface PolicySummary {
  policy: string
  /** Mean of the gap closed over the rows that have a gap; undefined if none has. */
  meanGapClosed: number | undefined
  /** The lowest (p − LRU) in points over the rows, and where. */
  worstVsLru: { points: number; trace: string; size: number }
}

export function summarize(rows: Row[], policies: readonly string[]): PolicySummary[] {
  return policies.map((policy) => {
    const gaps = rows.map((row) => gapClosed(row.policies[policy].hits, row)).filter((g): g is number => g !== undefined)
    let worst = { points: Infinity, trace: '', size: 0 }
    for (const row of rows) {
      const points = percent(row.policies[policy].hits, row) - percent(row.lru.hits, row)
      if (points < worst.points) worst = { points, trace: row.trace, size: row.size }
    }
    return {
      policy,
      meanGapClosed: gaps.length === 0 ? undefined : gaps.reduce((a, b) => a + b, 0) / gaps.length,
      worstVsLru: worst,
    }
  })
}

export interface TargetCheck {
  policy: string
  target: string
  pass: boolean
  /** The measured figure, and on a miss the rows that miss. */
  detail: string
}

/** The targets a default policy must meet, for the policies that were run. */
export function checkTargets(rows: Row[], summaries: PolicySummary[], defaultPolicy: string): TargetCheck[] {
  const checks: TargetCheck[] = []
  const at = (row: Row) => `${row.trace} @ ${row.size}`
  const summary = summaries.find((s) => s.policy === defaultPolicy)
  if (summary === undefined) {
    checks.push({
      policy: defaultPolicy,
      target: 'default policy',
      pass: false,
      detail: `'${defaultPolicy}' was not run (not in POLICY_NAMES or left out by --policies)`,
    })
  } else {
    const mean = summary.meanGapClosed
    checks.push({
      policy: defaultPolicy,
      target: 'default: closes ≥ 50 % of the LRU→OPT gap, averaged over all rows',
      pass: mean !== undefined && mean >= 0.5,
      detail: mean === undefined ? 'no row has a gap' : `mean ${pct(mean)}`,
    })
    const below = rows.filter((row) => percent(row.policies[defaultPolicy].hits, row) - percent(row.lru.hits, row) < -1)
    checks.push({
      policy: defaultPolicy,
      target: 'default: never more than 1 point below LRU on any row',
      pass: below.length === 0,
      detail:
        `worst ${points(summary.worstVsLru.points)} (${summary.worstVsLru.trace} @ ${summary.worstVsLru.size})` +
        (below.length === 0 ? '' : `; below by > 1 point on ${below.length} row(s): ${below.map(at).join(', ')}`),
    })
  }
  if (rows.length > 0 && 'learned' in rows[0].policies) {
    const hasLfu = 'lfu' in rows[0].policies
    let worst = { points: Infinity, where: '' }
    const below: Row[] = []
    for (const row of rows) {
      const better = Math.max(row.lru.hits, hasLfu ? row.policies.lfu.hits : 0)
      const diff = percent(row.policies.learned.hits, row) - percent(better, row)
      if (diff < worst.points) worst = { points: diff, where: at(row) }
      if (diff < -1) below.push(row)
    }
    checks.push({
      policy: 'learned',
      target: `learned: never more than 1 point below the better of LRU and LFU on any row${hasLfu ? '' : ' (LFU not run: vs LRU only)'}`,
      pass: below.length === 0,
      detail: `worst ${points(worst.points)} (${worst.where})${below.length === 0 ? '' : `; below by > 1 point on: ${below.map(at).join(', ')}`}`,
    })
  }
  return checks
}

// ---------------------------------------------------------------------------
// Formatting

const pct = (fraction: number): string => `${fraction < 0 ? '−' : ''}${Math.abs(Math.round(fraction * 100))} %`
const points = (p: number): string => `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(2)} pts`
const ratioCell = (hits: number, row: Row): string => percent(hits, row).toFixed(2)
const gapCell = (hits: number, row: Row): string => {
  const gap = gapClosed(hits, row)
  return gap === undefined ? '—' : `${gap < 0 ? '−' : ''}${Math.abs(Math.round(gap * 100))} %`
}
const thousands = (n: number): string => n.toLocaleString('en-US')
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : Math.round(n).toString())

interface Table {
  header: string[]
  rows: string[][]
  /** Rows after a rule: the summary. */
  footer: string[][]
}

function resultsTable(rows: Row[], policies: readonly string[], summaries: PolicySummary[], markdown: boolean): Table {
  const bold = (s: string) => (markdown ? `**${s}**` : s)
  const header = ['trace', 'size', 'OPT', 'LRU (lru-cache)', ...policies]
  const body = rows.map((row) => {
    const best = Math.max(...policies.map((p) => row.policies[p].hits))
    return [
      row.trace,
      thousands(row.size),
      ratioCell(row.opt.hits, row),
      ratioCell(row.lru.hits, row),
      ...policies.map((p) => {
        const hits = row.policies[p].hits
        const cell = `${ratioCell(hits, row)} (${gapCell(hits, row)})`
        return hits === best && policies.length > 1 ? bold(cell) : cell
      }),
    ]
  })
  const footer = [
    ['mean gap closed', '', '', '', ...summaries.map((s) => (s.meanGapClosed === undefined ? '—' : pct(s.meanGapClosed)))],
    ['worst vs LRU', '', '', '', ...summaries.map((s) => points(s.worstVsLru.points).replace(' pts', ''))],
  ]
  return { header, rows: body, footer }
}

function timesTable(rows: Row[], policies: readonly string[]): Table {
  const header = ['trace', 'size', 'requests', 'OPT', 'lru-cache', ...policies]
  const body = rows.map((row) => [
    row.trace,
    thousands(row.size),
    thousands(row.requests),
    ms(row.opt.ms),
    ms(row.lru.ms),
    ...policies.map((p) => ms(row.policies[p].ms)),
  ])
  const total = (pick: (row: Row) => number) => ms(rows.reduce((sum, row) => sum + pick(row), 0))
  const perRequest = (pick: (row: Row) => number) =>
    `${((rows.reduce((sum, row) => sum + pick(row), 0) * 1e6) / rows.reduce((sum, row) => sum + row.requests, 0)).toFixed(0)} ns`
  const footer = [
    [
      'total',
      '',
      thousands(rows.reduce((s, r) => s + r.requests, 0)),
      total((r) => r.opt.ms),
      total((r) => r.lru.ms),
      ...policies.map((p) => total((r) => r.policies[p].ms)),
    ],
    ['per request', '', '', perRequest((r) => r.opt.ms), perRequest((r) => r.lru.ms), ...policies.map((p) => perRequest((r) => r.policies[p].ms))],
  ]
  return { header, rows: body, footer }
}

function plain(table: Table): string {
  const all = [table.header, ...table.rows, ...table.footer]
  const widths = table.header.map((_, i) => Math.max(...all.map((row) => row[i].length)))
  const right = (i: number) => i >= 1
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [line(table.header), rule, ...table.rows.map(line), ...(table.footer.length ? [rule, ...table.footer.map(line)] : [])].join('\n')
}

function markdownTable(table: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`
  const align = table.header.map((_, i) => (i === 0 ? '---' : '---:'))
  return [
    line(table.header),
    line(align),
    ...table.rows.map(line),
    ...table.footer.map((cells) => line(cells.map((c, i) => (i === 0 || c === '' ? c : `*${c}*`)))),
  ].join('\n')
}

export interface Report {
  machine: Machine
  quick: boolean
  limit: number | undefined
  defaultPolicy: string
  policies: readonly string[]
  traces: { name: string; description: string; requests: number; distinct: number }[]
  rows: Row[]
  summaries: PolicySummary[]
  targets: TargetCheck[]
  notes: string[]
  /** Wall time of the whole run, loading included. */
  totalMs: number
}

const verdict = (check: TargetCheck) => `${check.pass ? 'PASS' : 'MISS'}  ${check.target}: ${check.detail}`

export function consoleReport(report: Report): string {
  const { machine: m } = report
  return [
    'hit ratio (%) per policy, with the share of the LRU→OPT gap it closes in brackets' +
      (report.quick ? ` — QUICK: traces cut to ${thousands(report.limit ?? 0)} requests` : ''),
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, node ${m.node}`,
    `date:    ${m.date}`,
    '',
    plain(resultsTable(report.rows, report.policies, report.summaries, false)),
    '',
    `targets (default policy: ${report.defaultPolicy}):`,
    ...report.targets.map((c) => `  ${verdict(c)}`),
    '',
    'replay time (ms):',
    plain(timesTable(report.rows, report.policies)),
    '',
    'notes:',
    ...report.notes.map((n) => `  ${n}`),
    `  whole run ${(report.totalMs / 1000).toFixed(1)} s`,
  ].join('\n')
}

export function markdownReport(report: Report): string {
  const { machine: m } = report
  return `# Hit ratio

Every eviction policy of the hot tier next to LRU (the \`lru-cache\` package, as its users run it) and next to the offline optimum (Bélády's OPT), on the same traces in the same run. Generated by \`npm run bench:hitratio -- --markdown docs/hit-ratio.md\`${report.quick ? ` **with \`--quick\` (traces cut to ${thousands(report.limit ?? 0)} requests): not the figures of record**` : ''}.

Machine: ${m.cpu}, ${m.cores} cores, ${m.memory}, ${m.os}, Node ${m.node}. Date: ${m.date.slice(0, 10)}.

Policies measured: ${report.policies.map((p) => `\`${p}\``).join(', ')} (\`POLICY_NAMES\` at the time of the run). Default policy checked against the targets: \`${report.defaultPolicy}\`.

## How to read this

Each row is one trace replayed through one cache of the given size (entries), starting empty; every miss is followed by a write of the key, as a read-through cache does. A cell is the hit ratio in percent, and in brackets the share of the gap between LRU and OPT that the policy closes: (policy − LRU) / (OPT − LRU). 0 % is no better than LRU, 100 % is as good as any cache of that size could be, a negative share is worse than LRU. The best policy of a row is in bold. OPT here admits every missed key, as all of these caches do, so it is the real ceiling for them. *Mean gap closed* averages the share over the rows; *worst vs LRU* is the policy's largest shortfall against LRU on any row, in points of hit ratio (+ when it is never below). Hit ratios are deterministic (the synthetic traces come from a fixed seed); the replay times below are not, and only compare policies within one run.

## Results

${markdownTable(resultsTable(report.rows, report.policies, report.summaries, true))}

## Targets

${report.targets.map((c) => `- **${c.pass ? 'PASS' : 'MISS'}** — ${c.target}: ${c.detail}.`).join('\n')}

## Replay time (ms)

The hot tier alone (\`find\`, then \`hit\` or \`missed\` + \`set\`), lru-cache's \`get\`/\`set\`, and OPT (its heap pass; the next-use pass, once per trace, is in the notes); one replay each, in one process, one after the other.

${markdownTable(timesTable(report.rows, report.policies))}

## Traces

${report.traces.map((t) => `- **${t.name}** (${thousands(t.requests)} requests, ${thousands(t.distinct)} distinct keys): ${t.description}.`).join('\n')}

The recorded traces are in \`bench/traces\` (see its README; CC BY 4.0, headissue GmbH). Keys are int32; each is turned into its decimal string once, before the replays.

## Notes

${report.notes.map((n) => `- ${n}`).join('\n')}

## Prefetch

Prefetching is measured apart, through the whole cache with a loader (\`npm run bench:prefetch\`): what it avoids on a synthetic workload of numeric walks and key chains, and that it never lowers the hit ratio on the recorded traces (it raises it: prefetched entries wait outside the tiers until read). See [prefetch.md](prefetch.md).
`
}
