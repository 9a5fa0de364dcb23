import { setTimeout as sleep } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { largestDelayDuring, loopTurnsDuring } from './event-loop.js'

const busy = (ms: number): void => {
  const start = performance.now()
  while (performance.now() - start < ms) {}
}

it('largestDelayDuring sees a stall in the last block of the work, which ends without yielding', async () => {
  const delay = await largestDelayDuring(async () => {
    await sleep(5)
    busy(50)
  })
  expect(delay).toBeGreaterThan(45)
})

it('largestDelayDuring sees a stall in the first block of the work, which starts at once', async () => {
  const delay = await largestDelayDuring(async () => busy(50))
  expect(delay).toBeGreaterThan(45)
})

describe('loopTurnsDuring', () => {
  /** Keeps the CPU busy for `ms` of this process's CPU time, however loaded the machine. */
  const spin = (ms: number): void => {
    const start = process.cpuUsage()
    for (;;) {
      const used = process.cpuUsage(start)
      if (used.user + used.system >= ms * 1000) return
    }
  }

  it('sees a block of the work, first or last, and the work done in one turn', async () => {
    let work = 0
    const first = await loopTurnsDuring(
      async () => {
        spin(50)
        work += 3
        await sleep(5)
        work += 1
      },
      () => work,
    )
    expect(first.longestMs).toBeGreaterThan(30) // of 50 ms of CPU: the clocks it reads lag a little under load; missing the block would read ~0
    expect(first.mostWork).toBe(3)
    const last = await loopTurnsDuring(async () => {
      await sleep(5)
      spin(50)
    })
    expect(last.longestMs).toBeGreaterThan(30) // of 50 ms of CPU: the clocks it reads lag a little under load; missing the block would read ~0
  })

  it('does not count a turn held up while the process was off the CPU', async () => {
    // Sleeping in a blocked call keeps the loop's turn long on the wall clock but uses no CPU, as preemption does.
    const shared = new Int32Array(new SharedArrayBuffer(4))
    const { longestMs } = await loopTurnsDuring(async () => {
      await sleep(5)
      Atomics.wait(shared, 0, 0, 50)
    })
    // 50 ms blocked would read 50 if counted. What the process's other threads (V8's compiler and collector
    // helpers, the thread pool) used meanwhile does count, and reaches 10-20 ms on a busy machine: half is the line.
    expect(longestMs).toBeLessThan(25)
  })
})

it('loopTurnsDuring does not count the collector pausing the loop', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  let garbage: object[] = Array.from({ length: 1_000_000 }, (_, i) => ({ i }))
  const { longestMs } = await loopTurnsDuring(async () => {
    await sleep(5)
    garbage = []
    const started = performance.now()
    while (performance.now() - started < 40) gc() // full collections, back to back
  })
  expect(garbage).toEqual([])
  // 40 ms of collections would read ~40 if counted. What is left between them (the calls, the clock reads, the
  // collector's work outside its reported pauses) grows with the machine's load: 11 ms was seen; half is the line.
  expect(longestMs).toBeLessThan(20)
})
