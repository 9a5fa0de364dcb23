import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loopTurnsDuring, rehashTurnMs } from '../../helpers/event-loop.js'
import { hintFiles, harness, makeTempDir, type Harness } from './helpers.js'

const MiB = 1 << 20
const VALUE = 2000
const COUNT = 110_000 // ~224 MB of records
// A turn of the event loop counts only the time the code ran (see loopTurnsDuring): not the time the OS gave the CPU
// to another process (other test files, a loaded machine), nor the collector's pauses; a block of this code does.
const LIMIT_MS = 20
// Opening, the key index (a Map) rehashes in one go as it passes 65,536 keys, which no slicing avoids and a loaded
// machine stretches threefold or more: that turn is bounded by the rehash this machine does now (rehashTurnMs, just
// before the run) times this, plus a slice's own work, or by LIMIT_MS when that is larger (a machine as fast as the
// reference). See docs/architecture.md, "Known limits".
const REHASH_MULTIPLE = 1.5
const SLICE_MS = 5

let h: Harness
let cleanup: () => Promise<void>
const opts = { maxBytes: 1024 * MiB, segmentBytes: 32 * MiB }

describe('never blocks the event loop', () => {
  beforeAll(async () => {
    const tmp = await makeTempDir()
    cleanup = tmp.cleanup
    h = harness(tmp.dir, opts)
    const store = await h.open()
    const value = Buffer.alloc(VALUE, 7)
    for (let i = 0; i < COUNT; i += 2000) {
      await store.putMany(Array.from({ length: 2000 }, (_, j) => ({ key: `key-${i + j}`, value, expiresAt: 0 })))
    }
    expect(store.stats().diskBytes).toBeGreaterThan(200_000_000)
    await store.close()
  }, 120_000)
  afterAll(() => cleanup())

  it(`opening a 200 MB store stalls the loop < ${LIMIT_MS} ms, or its key index's rehash, with hints and without`, async () => {
    // Warm-up open: the first run pays for JIT and the page cache.
    await (await h.open()).close()
    const openOnce = async (dropHints: boolean) => {
      const rehashMs = await rehashTurnMs('grow', 65_536)
      const run = await loopTurnsDuring(async () => {
        if (dropHints) for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
        const s = await h.open()
        const n = s.stats().entries
        await s.close() // rewrites the hints when they were dropped, in slices
        return n
      })
      return { ...run, rehashMs, boundMs: Math.max(LIMIT_MS, REHASH_MULTIPLE * rehashMs + SLICE_MS) }
    }
    // Best of three: a stall our code causes shows up every time; one from V8's
    // own work (a rehash, compiling), which lands in one run or another, does not.
    const best = async (dropHints: boolean) => {
      const runs = [await openOnce(dropHints), await openOnce(dropHints), await openOnce(dropHints)]
      return runs.reduce((a, b) => (b.longestMs / b.boundMs < a.longestMs / a.boundMs ? b : a))
    }
    const withHints = await best(false)
    const scanned = await best(true)
    expect(withHints.result).toBe(COUNT)
    expect(scanned.result).toBe(COUNT)
    const told = (run: typeof withHints): string =>
      `${run.longestMs.toFixed(1)} ms (bound ${run.boundMs.toFixed(1)} ms from a reference rehash of ${run.rehashMs.toFixed(1)} ms)`
    console.log(`max event-loop stall: open with hints ${told(withHints)}, open by scan ${told(scanned)}`)
    expect(withHints.longestMs).toBeLessThan(withHints.boundMs)
    expect(scanned.longestMs).toBeLessThan(scanned.boundMs)
  }, 120_000)

  it(`compaction and eviction of 32 MB segments stall the loop < ${LIMIT_MS} ms`, async () => {
    const s = await h.open({ maxBytes: 200 * MiB })
    const value = Buffer.alloc(VALUE, 9)
    for (let i = 0; i < 20_000; i += 2000) {
      await s.putMany(Array.from({ length: 2000 }, (_, j) => ({ key: `key-${i + j}`, value, expiresAt: 0 })))
    }
    const {
      result: rounds,
      longestMs,
      secondMs,
    } = await loopTurnsDuring(async () => {
      let n = 0
      while (await s.maintain(8 * MiB)) n++
      return n
    })
    expect(rounds).toBeGreaterThan(0)
    expect(s.stats().evictions + s.stats().compactions).toBeGreaterThan(0)
    expect(s.stats().diskBytes).toBeLessThanOrEqual(200 * MiB)
    console.log(`max event-loop stall: maintenance ${longestMs.toFixed(1)} ms (next ${secondMs.toFixed(1)} ms) over ${rounds} slices`)
    // This work cannot be run again on the same store to take the best run, as opening is: the second longest stall
    // must be under the limit. A stall our slices cause comes back on every segment evicted or compacted (there are
    // several); one from V8's own work does not.
    expect(rounds).toBeGreaterThan(2)
    expect(secondMs).toBeLessThan(LIMIT_MS)
    // And the one outlier allowed is still no long block.
    expect(longestMs).toBeLessThan(3 * LIMIT_MS)
    await s.close()
  }, 120_000)
})
