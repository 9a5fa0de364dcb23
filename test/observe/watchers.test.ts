import type { SchedulerAction, SchedulerLike } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { Watchers } from '../../src/observe/watchers.js'
import { testScheduler } from '../helpers/marbles.js'

const DAY = 24 * 60 * 60 * 1000
const MAX_TIMER_DELAY = 2 ** 31 - 1

describe('Watchers', () => {
  it('hears of an expiry 30 days away exactly when it comes, with a timer longer than Node can arm cut in two', () => {
    const scheduler = testScheduler()
    scheduler.run(({ expectObservable, flush }) => {
      const expiresAt = 30 * DAY
      const dueAt: number[] = []
      const delays: number[] = []
      // The test scheduler, counting the delays the watchers ask of it.
      const timers = {
        now: () => scheduler.now(),
        schedule: (work: (this: SchedulerAction<unknown>) => void, delay = 0) => (delays.push(delay), scheduler.schedule(work, delay)),
      } as SchedulerLike
      const watchers: Watchers<string> = new Watchers<string>(
        {
          current: () => (scheduler.now() < expiresAt ? 'v' : undefined),
          expiryOf: () => (scheduler.now() < expiresAt ? expiresAt : 0),
          due: (key) => {
            dueAt.push(scheduler.now())
            if (scheduler.now() >= expiresAt) watchers.changed(key, undefined, 0)
          },
        },
        timers,
      )
      expectObservable(watchers.watch('k'), `^ ${30 * DAY + 5}ms !`).toBe(`v ${30 * DAY - 1}ms u`, { v: 'v', u: undefined })
      flush()
      expect(delays).toEqual([MAX_TIMER_DELAY, expiresAt - MAX_TIMER_DELAY])
      expect(dueAt).toEqual([MAX_TIMER_DELAY, expiresAt])
    })
  })
})
