import { monitorEventLoopDelay } from 'node:perf_hooks'

/** Runs `work` and returns the event loop's largest delay meanwhile, in ms. */
export async function largestDelayDuring(work: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  try {
    await work()
  } finally {
    histogram.disable()
  }
  return histogram.max / 1e6
}
