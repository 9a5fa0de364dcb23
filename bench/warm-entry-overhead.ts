/**
 * Measures what one warm entry costs beyond its encoded bytes and its key's
 * characters, under each policy: the figure `WARM_ENTRY_OVERHEAD`
 * (src/tiers/memory/entry-overhead.ts) is set from. Not a scenario of
 * bench/run.ts: a tool to run again when the tier's structures change.
 *
 *   npx tsx bench/warm-entry-overhead.ts [--entries 100000] [--value-bytes 100]
 *
 * Each policy runs in a child process of its own (node --expose-gc): full GC,
 * memory, then a warm tier sized to hold `entries` entries is filled with
 * twice as many (so evictions have run and the policy's histories are in
 * steady state), full GC, memory. The overhead is the growth of heapUsed +
 * external (external includes the ArrayBuffers' bytes) less the encoded bytes
 * and key characters held, per entry held. RSS is shown too: it also sees the
 * native bookkeeping of each Buffer's backing store, which V8 does not count.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { POLICY_NAMES, type PolicyName } from '../src/policies/index.js'
import { createWarmTier, warmEntryCharge } from '../src/tiers/memory/warm-tier.js'
import { median } from './harness.js'

const SIDE_MARK = '@@overhead '
const args = process.argv.slice(2)
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name)
  return at === -1 ? fallback : Number(args[at + 1])
}
const ENTRIES = option('--entries', 100_000)
const VALUE_BYTES = option('--value-bytes', 100)
const RUNS = 3

interface Measurement {
  entries: number
  overhead: number
  heap: number
  rss: number
}

function fullGc(): void {
  const gc = globalThis.gc
  if (gc === undefined) throw new Error('run with node --expose-gc')
  gc()
  gc()
}

// How the default codec allocates: one exact-size ArrayBuffer per value.
const encoded = (): Uint8Array => Buffer.allocUnsafeSlow(VALUE_BYTES)

function measure(policy: PolicyName): Measurement {
  fullGc()
  const before = process.memoryUsage()
  const longestKey = `item:${2 * ENTRIES}`
  const tier = createWarmTier({ maxBytes: ENTRIES * warmEntryCharge(encoded(), longestKey), policy }, { evicted: () => {}, expired: () => {} })
  for (let i = 0; i < 2 * ENTRIES; i++) tier.set(`item:${i}`, encoded(), 0)
  fullGc()
  const after = process.memoryUsage()
  let held = 0
  for (const key of tier.keys(0)) held += key.length + VALUE_BYTES
  const growth = after.heapUsed - before.heapUsed + after.external - before.external
  return {
    entries: tier.entries,
    overhead: (growth - held) / tier.entries,
    heap: (after.heapUsed - before.heapUsed) / tier.entries,
    rss: (after.rss - before.rss - held) / tier.entries,
  }
}

function runChild(policy: PolicyName): Measurement {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--policy', policy, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  })
  const line = child.stdout.split('\n').find((l) => l.startsWith(SIDE_MARK))
  if (child.status !== 0 || line === undefined) throw new Error(`child '${policy}' failed: ${child.stderr}`)
  return JSON.parse(line.slice(SIDE_MARK.length)) as Measurement
}

const policyAt = args.indexOf('--policy')
if (policyAt !== -1) {
  process.stdout.write(`${SIDE_MARK + JSON.stringify(measure(args[policyAt + 1] as PolicyName))}\n`)
} else {
  console.log(`warm entry overhead, ${ENTRIES} entries held of ${VALUE_BYTES} B values, medians of ${RUNS} child processes`)
  console.log('policy      B/entry (heap+external)  heap only  rss')
  for (const policy of POLICY_NAMES) {
    const runs = Array.from({ length: RUNS }, () => runChild(policy))
    const m = (field: keyof Measurement) => Math.round(median(runs.map((r) => r[field])))
    console.log(
      `${policy.padEnd(12)}${String(m('overhead')).padStart(8)}${String(m('heap')).padStart(26)}${String(m('rss')).padStart(7)}   (${m('entries')} held)`,
    )
  }
}
