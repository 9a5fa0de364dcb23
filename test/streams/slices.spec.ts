import { type SchedulerLike, asyncScheduler } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { inSlices, rangeInSlices } from '../../streams/slices.js'
import { testScheduler } from '../helpers/marbles.js'

const steps = (...answers: boolean[]): (() => boolean) => {
  let i = 0
  return () => answers[i++]
}

describe('inSlices', () => {
  it('runs slices until the step says it is done, all in the frame it starts', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(inSlices(steps(true, true, false))).toBe('(abc|)', { a: 0, b: 1, c: 2 })
    })
  })

  it('runs a single slice for a step that is done at once', () => {
    testScheduler().run(({ expectObservable }) => {
      expectObservable(inSlices(steps(false))).toBe('(a|)', { a: 0 })
    })
  })

  it('errors with what the step throws, and stops', () => {
    let calls = 0
    const step = (): boolean => {
      if (++calls === 2) throw new Error('broken')
      return true
    }
    testScheduler().run(({ expectObservable }) => {
      expectObservable(inSlices(step)).toBe('(a#)', { a: 0 }, new Error('broken'))
    })
    expect(calls).toBe(2)
  })

  it('runs no further slice after unsubscribe', () => {
    let calls = 0
    const subscription = inSlices(() => {
      calls++
      subscription?.unsubscribe()
      return true
    }, asyncScheduler).subscribe()
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(calls).toBe(1)
        resolve()
      }, 20),
    )
  })

  it('hands the event loop back between slices on the async scheduler', async () => {
    const order: string[] = []
    await new Promise<void>((resolve) => {
      let slice = 0
      inSlices(() => {
        order.push(`slice ${slice}`)
        if (slice++ === 0) setImmediate(() => order.push('io'))
        return slice < 3
      }, asyncScheduler).subscribe({ complete: resolve })
    })
    expect(order).toEqual(['slice 0', 'io', 'slice 1', 'slice 2'])
  })
})

describe('rangeInSlices', () => {
  const visits = () => {
    const seen: [number, number][] = []
    return { seen, visit: (from: number, to: number): void => void seen.push([from, to]) }
  }

  it('visits the range in slices of at most `size`, all in the frame it starts on a virtual scheduler', () => {
    const { seen, visit } = visits()
    testScheduler().run(({ expectObservable }) => {
      expectObservable(rangeInSlices(10, { size: 4 }, visit)).toBe('(abc|)', { a: 4, b: 8, c: 10 })
    })
    expect(seen).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ])
  })

  it('visits the first slice when subscribed, before the scheduler runs anything', () => {
    const { seen, visit } = visits()
    const subscription = rangeInSlices(10, { size: 4 }, visit, asyncScheduler).subscribe()
    expect(seen).toEqual([[0, 4]])
    subscription.unsubscribe()
  })

  it('completes at once for an empty range, visiting nothing', () => {
    const { seen, visit } = visits()
    testScheduler().run(({ expectObservable }) => {
      expectObservable(rangeInSlices(0, { size: 4 }, visit)).toBe('(a|)', { a: 0 })
    })
    expect(seen).toEqual([])
  })

  it('cuts a slice short once the clock says it has run `budget` ms, and goes on in the next', () => {
    const scheduler = testScheduler()
    const slices: number[] = []
    let clock = 0
    // The test scheduler, with a clock that each item moves by 1 ms.
    const timed = { now: () => clock, schedule: scheduler.schedule.bind(scheduler) } as SchedulerLike
    const visit = (from: number, to: number): void => {
      slices.push(to - from)
      clock += to - from
    }
    scheduler.run(({ expectObservable }) => {
      expectObservable(rangeInSlices(10, { size: 8, budget: 3, check: 1 }, visit, timed)).toBe('(abcd|)', { a: 3, b: 6, c: 9, d: 10 })
    })
    expect(slices).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
  })

  it('errors with what the visit throws, and visits no more', () => {
    let calls = 0
    const visit = (): void => {
      if (++calls === 2) throw new Error('broken')
    }
    testScheduler().run(({ expectObservable }) => {
      expectObservable(rangeInSlices(10, { size: 4 }, visit)).toBe('(a#)', { a: 4 }, new Error('broken'))
    })
    expect(calls).toBe(2)
  })

  it('visits no further slice after unsubscribe', async () => {
    const { seen, visit } = visits()
    rangeInSlices(10, { size: 4 }, visit, asyncScheduler).subscribe().unsubscribe()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen).toEqual([[0, 4]])
  })

  it('hands the event loop back between slices on the async scheduler', async () => {
    const order: string[] = []
    await new Promise<void>((resolve) => {
      rangeInSlices(
        6,
        { size: 2 },
        (from) => {
          order.push(`slice ${from}`)
          if (from === 0) setImmediate(() => order.push('io'))
        },
        asyncScheduler,
      ).subscribe({ complete: resolve })
    })
    expect(order).toEqual(['slice 0', 'io', 'slice 2', 'slice 4'])
  })
})
