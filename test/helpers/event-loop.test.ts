import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { largestDelayDuring } from './event-loop.js'

it('largestDelayDuring sees a stall in the last block of the work, which ends without yielding', async () => {
  const busy = (ms: number): void => {
    const start = performance.now()
    while (performance.now() - start < ms) {}
  }
  const delay = await largestDelayDuring(async () => {
    await sleep(5)
    busy(50)
  })
  expect(delay).toBeGreaterThan(45)
})
