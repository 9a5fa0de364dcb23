/**
 * Runs every scenario, each in a child process of its own (so one
 * scenario's JIT state and garbage cannot colour the next), and prints the
 * ratios against their baselines (lru-cache, lmdb, bentocache) with their targets.
 *
 *   npm run bench                         all scenarios
 *   npm run bench -- --only peek,hot-hit  some of them
 *   npm run bench -- --rounds 9           fewer rounds, for a quick look
 *   npm run bench -- --json [file]        also write the results as JSON (default bench/results.json)
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { RESULT_PREFIX, type Result } from './harness.js'

// The scenarios that import dist/ rather than src/.
const BUILT = ['public-cold']
const SCENARIOS = [
  'hot-hit',
  'peek',
  'set-eviction',
  'events-overhead',
  'warm-heap',
  'cold-vs-lmdb',
  'public-cold',
  'hot-hit-policies',
  'insert-stall',
  'write-back',
  'distributed',
]

const args = process.argv.slice(2)
const option = (name: string): string | undefined => {
  const at = args.indexOf(name)
  return at === -1 ? undefined : (args[at + 1] ?? '')
}
const only = option('--only')?.split(',')
const rounds = option('--rounds')
const json = option('--json')

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism(),
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
}
console.log(`strata-cache benchmarks vs lru-cache, lmdb and bentocache (ratio = strata / baseline, lower is better)`)
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory}, ${machine.os}, node ${machine.node}`)
console.log(`date:    ${machine.date}\n`)

// Scenarios of the public path import the compiled package (bench/built.ts), as users run it: built once, here.
if (SCENARIOS.some((s) => (only === undefined || only.includes(s)) && BUILT.includes(s))) {
  process.stderr.write('building dist/…\n')
  const build = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`)
}

const results: Result[] = []
for (const scenario of SCENARIOS.filter((s) => only === undefined || only.includes(s))) {
  process.stderr.write(`running ${scenario}…\n`)
  const file = fileURLToPath(new URL(`./${scenario}.ts`, import.meta.url))
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...(rounds === undefined ? [] : ['--rounds', rounds])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 << 20,
  })
  if (child.status !== 0) {
    console.error(`${scenario} failed (exit ${child.status})`)
    process.exitCode = 1
    continue
  }
  for (const line of child.stdout.split('\n')) {
    if (line.startsWith(RESULT_PREFIX)) results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as Result)
  }
}

const verdict = (r: Result): string => {
  if (r.target === undefined) return 'info'
  if (r.ratio <= r.target) return 'PASS'
  return `MISS (+${Math.round((r.ratio / r.target - 1) * 100)} % over)`
}
const figure = (n: number, unit: string) => `${n < 100 ? n.toFixed(1) : Math.round(n)} ${unit}`
const rows = results.map((r) => [
  r.title,
  figure(r.strata, r.unit),
  `${figure(r.baseline, r.unit)} (${r.baselineName})`,
  r.ratio.toFixed(3),
  r.spread === undefined ? '' : `${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)}`,
  r.target === undefined ? '' : `≤ ${r.target}`,
  verdict(r),
])
const header = ['scenario', 'strata-cache', 'baseline', 'ratio', 'IQR of rounds', 'target', 'result']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
const line = (cells: string[]) =>
  cells
    .map((c, i) => c.padEnd(widths[i]))
    .join('  ')
    .trimEnd()
console.log(line(header))
console.log(widths.map((w) => '-'.repeat(w)).join('  '))
rows.forEach((row) => console.log(line(row)))

console.log('\nnotes:')
for (const r of results) for (const note of r.notes) console.log(`  ${r.id}: ${note}`)
console.log('\nratios are of medians over interleaved rounds (A B, B A, …) after warm-up; the IQR column is the')
console.log('spread of the per-round ratios, a measure of how noisy the machine was.')

if (json !== undefined) {
  const path = json === '' || json.startsWith('--') ? 'bench/results.json' : json
  writeFileSync(path, `${JSON.stringify({ machine, results }, null, 2)}\n`)
  console.log(`\nwrote ${path}`)
}
