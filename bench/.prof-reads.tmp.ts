// Temporary profiling driver (not part of the tree): random gets at N in flight.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { ColdStore } from '../src/tiers/cold/index.js'
import { makeRecord, prng } from './records.js'
import { accessOrder, makeKeys } from './harness.js'

const N = 100_000
const inFlight = Number(process.env.IN_FLIGHT ?? 64)
const ops = Number(process.env.OPS ?? 200_000)
const keys = makeKeys(N)
const values = keys.map((_, i) => Buffer.from(JSON.stringify(makeRecord(i)), 'utf8'))
const order = accessOrder(N, 1 << 17, prng(7))
const dir = mkdtempSync(join(os.tmpdir(), 'prof-cold-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
{
  const s = await ColdStore.open({ dir, fsync: 'interval', now: Date.now, onError: (e) => { throw e } })
  for (let at = 0; at < N; at += 1000) await s.putMany(keys.slice(at, at + 1000).map((key, j) => ({ key, value: values[at + j], expiresAt: 0 })))
  await s.close()
}
const store = await ColdStore.open({ dir, fsync: 'interval', now: Date.now, onError: (e) => { throw e } })
for (let at = 0; at < N; at += 100) await store.getMany(keys.slice(at, at + 100))
let cursor = 0
async function run(n: number): Promise<number> {
  let left = n
  const t0 = process.hrtime.bigint()
  const worker = async () => {
    while (left > 0) {
      left--
      if ((await store.get(keys[order[cursor++ & 131071]])) === undefined) throw new Error('miss')
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return Number(process.hrtime.bigint() - t0) / n
}
await run(20_000)
// Allocation per read: no scavenge fits in a large semi-space (run with --max-semi-space-size=512).
if (globalThis.gc) {
  globalThis.gc()
  const m0 = process.memoryUsage()
  const n = 20_000
  await run(n)
  const m1 = process.memoryUsage()
  console.log(`heap bytes/read ${((m1.heapUsed - m0.heapUsed) / n).toFixed(0)}, arrayBuffers bytes/read ${((m1.arrayBuffers - m0.arrayBuffers) / n).toFixed(0)}`)
}
const cpu0 = process.cpuUsage()
const ns = await run(ops)
const cpu = process.cpuUsage(cpu0)
console.log(`in flight ${inFlight}: ${ns.toFixed(0)} ns/read, cpu user ${(cpu.user * 1000 / ops).toFixed(0)} ns sys ${(cpu.system * 1000 / ops).toFixed(0)} ns per read`)
await store.close()
