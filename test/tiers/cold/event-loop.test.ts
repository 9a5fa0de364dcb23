import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loopTurnsDuring } from '../../helpers/event-loop.js'
import { hintFiles, harness, makeTempDir, type Harness } from './helpers.js'

const MiB = 1 << 20
const VALUE = 2000
const COUNT = 110_000 // ~224 MB of records
// A turn of the event loop counts only the time the code ran (see loopTurnsDuring): not the time the OS gave the CPU
// to another process (other test files, a loaded machine), nor the collector's pauses; a block of this code does.
const LIMIT_MS = 20

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
  }, 60_000)
  afterAll(() => cleanup())

  it(`opening a 200 MB store stalls the loop < ${LIMIT_MS} ms, with hints and without`, async () => {
    // Warm-up open: the first run pays for JIT and the page cache.
    await (await h.open()).close()
    const openOnce = (dropHints: boolean) =>
      loopTurnsDuring(async () => {
        if (dropHints) for (const hint of await hintFiles(h.dir)) await unlink(join(h.dir, hint))
        const s = await h.open()
        const n = s.stats().entries
        await s.close() // rewrites the hints when they were dropped, in slices
        return n
      })
    // Best of three: a stall our code causes shows up every time; one from V8's
    // own work (a rehash, compiling), which lands in one run or another, does not.
    const best = async (dropHints: boolean): Promise<{ result: number; longestMs: number }> => {
      const runs = [await openOnce(dropHints), await openOnce(dropHints), await openOnce(dropHints)]
      return runs.reduce((a, b) => (b.longestMs < a.longestMs ? b : a))
    }
    const withHints = await best(false)
    const scanned = await best(true)
    expect(withHints.result).toBe(COUNT)
    expect(scanned.result).toBe(COUNT)
    console.log(`max event-loop stall: open with hints ${withHints.longestMs.toFixed(1)} ms, open by scan ${scanned.longestMs.toFixed(1)} ms`)
    expect(withHints.longestMs).toBeLessThan(LIMIT_MS)
    expect(scanned.longestMs).toBeLessThan(LIMIT_MS)
  }, 60_000)

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
  }, 60_000)
})
