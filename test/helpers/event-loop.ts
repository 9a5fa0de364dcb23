import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/** Runs `work` and returns the event loop's largest delay meanwhile, in ms. */
export async function largestDelayDuring(work: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  try {
    await work()
    // The histogram's timer records a stall when it next fires: let it fire after the last block of `work`.
    await sleep(3)
  } finally {
    histogram.disable()
  }
  return histogram.max / 1e6
}
