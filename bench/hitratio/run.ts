/**
 * The hit-ratio suite: every trace at every size through OPT,
 * lru-cache and each policy in `POLICY_NAMES`, with the share of the LRU→OPT
 * gap each closes and the targets.
 *
 *   npm run bench:hitratio                              everything (about a minute on 2 cores)
 *   npm run bench:hitratio -- --quick                   each trace cut to 200,000 requests
 *   npm run bench:hitratio -- --only web07,loop         some traces
 *   npm run bench:hitratio -- --policies lru,sieve      some policies of POLICY_NAMES
 *   npm run bench:hitratio -- --default arc             the policy held to the default's targets (default: the cache's)
 *   npm run bench:hitratio -- --json FILE               the results as JSON
 *   npm run bench:hitratio -- --markdown FILE           docs/hit-ratio.md as Markdown
 *
 * Exits 0 whether targets pass or miss (this is a benchmark); 1 on a bad
 * option or a missing trace.
 */
import { parseArgs } from 'node:util'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { POLICY_NAMES, type PolicyName } from '../../src/policies/index.js'
import { DEFAULT_POLICY } from '../../src/options/options.js'
import { nextUses, optHits } from './opt.js'
import { replayHotTier, replayLruCache } from './replay.js'
import { checkTargets, consoleReport, machine, markdownReport, percent, type Report, type Row, summarize } from './report.js'
import { loadTraces, TRACE_NAMES } from './traces.js'

const QUICK_LIMIT = 200_000

const fail = (message: string): never => {
  console.error(`bench:hitratio: ${message}`)
  process.exit(1)
}
// Node's own parser: an unknown option or a missing value stops the run with a clear message.
const parsed = (() => {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        policies: { type: 'string' },
        default: { type: 'string' },
        json: { type: 'string' },
        markdown: { type: 'string' },
        limit: { type: 'string' },
      },
      strict: true,
    })
  } catch (error) {
    return fail((error as Error).message)
  }
})()
const flags = parsed.values
const list = (value: string | undefined): string[] | undefined => value?.split(',').filter((s) => s !== '')

const quick = flags.quick === true
const limitArg = flags.limit
const limit = limitArg !== undefined ? Number(limitArg) : quick ? QUICK_LIMIT : undefined
if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) fail(`--limit must be a positive integer`)

const only = list(flags.only)
for (const name of only ?? []) if (!TRACE_NAMES.includes(name)) fail(`unknown trace '${name}' (traces: ${TRACE_NAMES.join(', ')})`)

const available: readonly string[] = POLICY_NAMES
const chosen = list(flags.policies)
for (const name of chosen ?? []) if (!available.includes(name)) fail(`'${name}' is not in POLICY_NAMES (${available.join(', ')})`)
const policies = (chosen === undefined ? available : available.filter((p) => chosen.includes(p))) as readonly PolicyName[]

const defaultPolicy = flags.default ?? DEFAULT_POLICY
const jsonFile = flags.json
const markdownFile = flags.markdown

const startedAt = performance.now()
const traces = await loadTraces({ limit, only }).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)))

const rows: Row[] = []
const notes: string[] = []
const nextMs: string[] = []
for (const trace of traces) {
  const nextStart = performance.now()
  const next = nextUses(trace.ids, trace.distinct)
  nextMs.push(`${trace.name} ${Math.round(performance.now() - nextStart)} ms`)
  for (const size of trace.sizes) {
    process.stderr.write(`${trace.name} @ ${size}: OPT`)
    const optStart = performance.now()
    const opt = optHits(trace.ids, trace.distinct, size, { next })
    const optMs = performance.now() - optStart
    const optBypass = optHits(trace.ids, trace.distinct, size, { next, bypass: true })
    process.stderr.write(', lru-cache')
    const lru = replayLruCache(trace, size)
    const results: Row['policies'] = {}
    for (const policy of policies) {
      process.stderr.write(`, ${policy}`)
      results[policy] = replayHotTier(trace, size, policy)
    }
    process.stderr.write('\n')
    const row: Row = {
      trace: trace.name,
      size,
      requests: trace.ids.length,
      distinct: trace.distinct,
      opt: { hits: opt, ms: optMs },
      optBypass,
      lru,
      policies: results,
    }
    rows.push(row)
    for (const policy of policies) {
      const hits = results[policy].hits
      if (hits > opt) {
        notes.push(`IMPOSSIBLE: ${policy} on ${trace.name} @ ${size} has ${hits} hits, more than OPT's ${opt}: a bug in the policy, the tier or OPT`)
      }
    }
    if ('lru' in results && results.lru.hits !== lru.hits) {
      notes.push(`MISMATCH: the hot tier's 'lru' has ${results.lru.hits} hits on ${trace.name} @ ${size}, lru-cache ${lru.hits}: they should agree exactly`)
    }
  }
}

const summaries = summarize(rows, policies)
const targets = checkTargets(rows, summaries, defaultPolicy)
if ('lru' in (rows[0]?.policies ?? {}) && !notes.some((n) => n.startsWith('MISMATCH'))) {
  notes.push("The hot tier's `lru` policy gets exactly lru-cache's hit count on every row (a check of the replay itself).")
}
const bypassGain = Math.max(0, ...rows.map((row) => percent(row.optBypass, row) - percent(row.opt.hits, row)))
notes.push(
  `OPT is Bélády's algorithm with every missed key admitted (on a miss in a full cache, the entry used farthest in the future goes). ` +
    'OPT allowed to bypass (leave out a key whose next use is the farthest) is at most ' +
    `${bypassGain.toFixed(3)} points higher on these rows; both are in the JSON.`,
)
if (policies.includes('lfu')) {
  notes.push("`lfu` is the hot tier's LFU with its defaults: counts saturate at 15 and are halved every max(1,024, 10 × cache size) hits.")
}
notes.push(`The next-use pass of OPT, once per trace: ${nextMs.join(', ')}.`)
const load = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(', ')
notes.push(
  `Replay times are of one replay each on a shared machine (load average ${load} at the end of the run): compare policies within a run, not across runs.`,
)
if (defaultPolicy === 'lru') notes.push('The default policy checked is `lru`, which closes none of the gap by definition.')

const report: Report = {
  machine: machine(),
  quick: limit !== undefined,
  limit,
  defaultPolicy,
  policies,
  traces: traces.map((t) => ({ name: t.name, description: t.description, requests: t.ids.length, distinct: t.distinct })),
  rows,
  summaries,
  targets,
  notes,
  totalMs: performance.now() - startedAt,
}

console.log(consoleReport(report))
if (jsonFile !== undefined) {
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`)
  console.log(`\nwrote ${jsonFile}`)
}
if (markdownFile !== undefined) {
  writeFileSync(markdownFile, markdownReport(report))
  console.log(`wrote ${markdownFile}`)
}
