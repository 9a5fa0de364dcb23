// The cache with a cold tier against a Map model, over random tiny
// configurations, with close-and-reopen as an operation: no read older than
// the last acknowledged write or delete, no wrong value, exact counts.
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { commands, config, realClock, runAgainstModel, virtualClock } from './helpers/model-run.js'

describe('the adversary: a cache with a cold tier against a Map model, across restarts', () => {
  it('in virtual time: any sequence of writes (TTL, tags), reads, deletes, clears, checkpoints, time steps and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(config, commands(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 600 }), 50), (c, cmds) =>
        runAgainstModel(c, cmds, virtualClock()),
      ),
      { numRuns: 200, plugins: [fc.interruptAfterTimeLimit(25_000)] },
    )
  }, 60_000)

  it('on the real clock: the same, with the disk flows running on their own timers', async () => {
    await fc.assert(
      fc.asyncProperty(config, commands(fc.integer({ min: 5, max: 60 }), fc.integer({ min: 0, max: 40 }), 30), (c, cmds) =>
        runAgainstModel(c, cmds, realClock()),
      ),
      { numRuns: 40, plugins: [fc.interruptAfterTimeLimit(25_000)] },
    )
  }, 60_000)
})
