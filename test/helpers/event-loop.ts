import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { SchedulerAction, SchedulerLike } from 'rxjs'
import { setTimeout as sleep } from 'node:timers/promises'

/** Runs `work` and returns the event loop's largest delay meanwhile, in ms. */
export async function largestDelayDuring(work: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  try {
    // The histogram's timer starts with the loop's next turn: a block before then would go unseen.
    await sleep(3)
    await work()
    // The histogram's timer records a stall when it next fires: let it fire after the last block of `work`.
    await sleep(3)
  } finally {
    histogram.disable()
  }
  return histogram.max / 1e6
}

/** One run of a scheduled action (or of a call's synchronous part): how long it took, and the work done meanwhile. */
export interface SliceRecord {
  /** The smaller of its wall-clock time and the CPU time the process used in it: time preempted does not count. */
  ms: number
  work: number
}

/**
 * A scheduler that runs every action on `base`, recording how long each ran
 * and how far `work()` moved meanwhile: a bulk call's slices, measured one by
 * one. `sync(fn)` records the synchronous part of a call the same way, for
 * the slice a call runs before it first yields.
 */
export function sliceRecorder(base: SchedulerLike, work: () => number) {
  const slices: SliceRecord[] = []
  const timed = <T>(fn: () => T): T => {
    const started = performance.now()
    const cpu = process.cpuUsage()
    const before = work()
    try {
      return fn()
    } finally {
      const used = process.cpuUsage(cpu)
      slices.push({ ms: Math.min(performance.now() - started, (used.user + used.system) / 1000), work: work() - before })
    }
  }
  const scheduler = {
    now: () => base.now(),
    schedule: (action: (this: SchedulerAction<unknown>, state?: unknown) => void, delay?: number, state?: unknown) =>
      base.schedule(
        function (this: SchedulerAction<unknown>, state?: unknown) {
          timed(() => action.call(this, state))
        },
        delay,
        state,
      ),
  } as SchedulerLike
  return { scheduler, slices, sync: timed }
}

export interface LoopTurns<T> {
  result: T
  /** The longest turn of the event loop, and the second longest, in ms (see `loopTurnsDuring`). */
  longestMs: number
  secondMs: number
  /** The most that `progress()` moved in one turn. */
  mostWork: number
}

/**
 * Runs `work` while a setImmediate ping times each turn of the event loop,
 * counting in a turn only the time the code ran: the smaller of its
 * wall-clock time and the CPU time the process used meanwhile (a turn held up
 * because the OS gave the CPU to another process is long on the wall clock
 * only), less the collector's pauses within it (V8's, which a loaded machine
 * stretches tenfold: its helper threads wait for a CPU too). `progress()`,
 * read at every turn, tells the most work done in one.
 */
export async function loopTurnsDuring<T>(work: () => Promise<T>, progress: () => number = () => 0): Promise<LoopTurns<T>> {
  const turns: { start: number; end: number; ms: number }[] = []
  const pauses: { start: number; end: number }[] = []
  const collector = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push({ start: entry.startTime, end: entry.startTime + entry.duration })
  })
  collector.observe({ entryTypes: ['gc'] })
  let mostWork = 0
  let wall = performance.now()
  let cpu = process.cpuUsage()
  let done = progress()
  let running = true
  const ping = (): void => {
    const now = performance.now()
    const used = process.cpuUsage(cpu)
    turns.push({ start: wall, end: now, ms: Math.min(now - wall, (used.user + used.system) / 1000) })
    const reached = progress()
    mostWork = Math.max(mostWork, reached - done)
    done = reached
    wall = now
    cpu = process.cpuUsage()
    if (running) setImmediate(ping)
  }
  setImmediate(ping)
  let result: T
  try {
    result = await work()
    // Until the ping has seen the turn of work's last block, and the observer has had the last pauses.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setTimeout(resolve, 5))
  } finally {
    running = false
    collector.disconnect()
  }
  let longestMs = 0
  let secondMs = 0
  for (const turn of turns) {
    let paused = 0
    for (const pause of pauses) paused += Math.max(0, Math.min(turn.end, pause.end) - Math.max(turn.start, pause.start))
    const ms = Math.max(0, turn.ms - paused)
    if (ms > longestMs) [secondMs, longestMs] = [longestMs, ms]
    else if (ms > secondMs) secondMs = ms
  }
  return { result, longestMs, secondMs, mostWork }
}

/**
 * How long `loopTurnsDuring` counts, on this machine now, the turn in which V8
 * rehashes `tables` Maps of string keys at once: the stall a large Map causes
 * whatever the code's slices do (V8 rehashes a Map in one go, see
 * docs/architecture.md, "Known limits"). `'grow'`: the insert that passes
 * `keys`, a power of two, doubling each Map. `'shrink'`: the delete that
 * leaves a Map that held `keys` a quarter full, halving it. A loaded machine
 * stretches this copying of a large table threefold or more (shared caches,
 * memory bandwidth, page faults), as it does the code's own rehash: a bound on
 * a turn that holds such a rehash scales with this, measured just before.
 * The median of three, each on Maps built afresh and left to the collector first.
 */
export async function rehashTurnMs(change: 'grow' | 'shrink', keys: number, tables = 1): Promise<number> {
  // Made once, hashed once: what the timed insert or delete does to a key is what the code's own does.
  const names = Array.from({ length: keys + 1 }, (_, i) => `key:${i}`)
  const times: number[] = []
  for (let run = 0; run < 3; run++) {
    const maps = Array.from({ length: tables }, () => new Map<string, number>())
    for (let i = 0; i < keys; i++) for (const map of maps) map.set(names[i], i)
    let next = keys
    if (change === 'shrink') {
      // A Map shrinks when a delete leaves it under a quarter of its slots: a power of two, at least `keys`.
      const quarter = 2 ** Math.ceil(Math.log2(keys)) / 4
      next = 0
      for (; maps[0].size > quarter; next++) for (const map of maps) map.delete(names[next])
    }
    const rehash = (): void => {
      for (const map of maps) {
        if (change === 'grow') map.set(names[next], next)
        else map.delete(names[next])
      }
    }
    // The collector's work on what building the Maps left goes first, as a test lets it before its timed run.
    await sleep(50)
    const { longestMs } = await loopTurnsDuring(async () => {
      await sleep(1)
      rehash()
    })
    times.push(longestMs)
  }
  return times.sort((a, b) => a - b)[1]
}
/**
 * The longest turn `loopTurnsDuring` sees while the process only waits for
 * `ms`: the noise floor of this machine now (the CPU time that other threads
 * of the process, the collector's helpers and the thread pool, add to a turn),
 * to add to a bound measured in the same test.
 */
export async function idleFloorMs(ms: number): Promise<number> {
  const { longestMs } = await loopTurnsDuring(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  return longestMs
}
