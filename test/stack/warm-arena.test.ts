import { describe, expect, it } from 'vitest'
import { createCache } from '../../src/index.js'
import { noise } from '../helpers/noise.js'
import { tempDirs } from '../helpers/temp-dirs.js'
import { VirtualClock } from '../helpers/virtual-time.js'

const tempDir = tempDirs('strata-arena-')
/** About 400 bytes encoded each, incompressible. */
const value = (i: number): Uint8Array => noise(400, i * 7919 + 1)
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => a !== undefined && Buffer.from(a).equals(b)

// Hot holds one entry: what is written goes down to warm, whose slabs are 16 KiB at this bound.
const options = (clock: VirtualClock, dir?: string) => ({
  scheduler: clock,
  hot: { maxEntries: 1 },
  warm: { maxBytes: 64 << 10 },
  ...(dir === undefined ? {} : { cold: { dir } }),
})

describe("warm's arena in the stack", () => {
  it('writes the bytes a demotion handed down, even after compaction reused their slab for new writes', async () => {
    const dir = await tempDir()
    const clock = new VirtualClock()
    const cache = createCache<Uint8Array>(options(clock, dir))
    await cache.ready
    const demoted: number[] = []
    cache.events$.subscribe((event) => {
      if (event.type === 'demote' && event.from === 'warm') demoted.push(Number(event.key.slice(1)))
    })
    // All in one turn: warm lets the oldest go down to the disk, which writes them later.
    for (let i = 0; i < 300; i++) cache.set(`k${i}`, value(i))
    expect(demoted.length).toBeGreaterThan(100)
    // Most of what warm holds goes: its slabs are sparse, compaction empties them and keeps them for reuse…
    for (let i = 0; i < 300; i++) if (i % 4 !== 0 && !demoted.includes(i)) cache.delete(`k${i}`)
    clock.advance(50)
    // …and new writes fill them.
    for (let i = 1000; i < 1100; i++) cache.set(`k${i}`, value(i))
    await cache.close()

    const reopened = createCache<Uint8Array>(options(new VirtualClock(), dir))
    await reopened.ready
    for (const i of demoted) expect(same((await reopened.get(`k${i}`)) as Uint8Array | undefined, value(i)), `k${i}`).toBe(true)
    await reopened.close()
  })

  it('keeps a peek snapshot the same object when compaction moves its bytes', async () => {
    const clock = new VirtualClock()
    const cache = createCache<{ v: number; pad: string }>({ scheduler: clock, hot: { maxEntries: 1 }, warm: { maxBytes: 256 << 10 } })
    const pad = 'x'.repeat(300)
    await cache.set('kept', { v: 1, pad })
    for (let i = 0; i < 300; i++) await cache.set(`k${i}`, { v: i, pad })
    const first = cache.peek('kept')
    expect(first).toEqual({ v: 1, pad })
    // 'kept' is alone in the first slab, the emptiest: compaction copies it out first.
    for (let i = 0; i < 300; i++) if (i < 60 || i % 10 !== 0) await cache.delete(`k${i}`)
    clock.advance(50)
    expect(cache.peek('kept')).toBe(first)
    await cache.close()
  })

  it('reads back what warm holds after compaction, and a closed or cleared cache leaves no compaction scheduled', async () => {
    const clock = new VirtualClock()
    const cache = createCache<Uint8Array>(options(clock))
    for (let i = 0; i < 150; i++) await cache.set(`k${i}`, value(i))
    for (let i = 0; i < 150; i++) if (i % 5 !== 0) await cache.delete(`k${i}`)
    clock.advance(50)
    for (let i = 0; i < 150; i += 5) if (cache.peek(`k${i}`) !== undefined) expect(same(cache.peek(`k${i}`), value(i))).toBe(true)
    // Garbage again, a pass armed, then cleared before it runs.
    for (let i = 0; i < 150; i++) await cache.set(`n${i}`, value(i))
    for (let i = 0; i < 150; i++) if (i % 5 !== 0) await cache.delete(`n${i}`)
    expect(clock.pending).toBeGreaterThan(0)
    await cache.clear()
    expect(clock.pending).toBe(0)
    for (let i = 0; i < 150; i++) await cache.set(`m${i}`, value(i))
    for (let i = 0; i < 150; i++) if (i % 5 !== 0) await cache.delete(`m${i}`)
    expect(clock.pending).toBeGreaterThan(0)
    await cache.close()
    expect(clock.pending).toBe(0)
  })
})
