import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'
import { largestDelayDuring } from './event-loop.js'

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
