import { TestScheduler } from 'rxjs/testing'
import { expect } from 'vitest'

/** A TestScheduler whose assertions are vitest's deep equality. */
export const testScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected)
  })
