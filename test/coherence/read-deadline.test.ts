import { describe, expect, it } from 'vitest'
import { ReadDeadline } from '../../src/coherence/redis-deadline.js'
import { isCacheError } from '../../src/errors.js'
import { VirtualClock } from '../helpers/virtual-time.js'

describe('ReadDeadline', () => {
  it('fails the read under way once it is `ms` old, not before, whatever came back in time before it', () => {
    const clock = new VirtualClock()
    const failures: unknown[] = []
    const reads = new ReadDeadline(1000, clock, (error) => failures.push(error))
    for (let i = 0; i < 5; i++) {
      reads.started()
      clock.advance(300)
      reads.answered()
    }
    // one timer for all those reads, not one each
    expect(clock.pending).toBe(1)
    reads.started() // at 1500: due at 2500, though the timer armed at 0 fires at 1000
    clock.advance(999)
    expect(failures).toEqual([])
    clock.advance(1)
    expect(failures).toHaveLength(1)
    expect(isCacheError(failures[0]) && failures[0].code).toBe('E_REMOTE')
    expect(clock.pending).toBe(0)
    clock.advance(5000)
    expect(failures).toHaveLength(1)
  })

  it('leaves nothing on the scheduler once stopped, nor when no read is under way', () => {
    const clock = new VirtualClock()
    const failures: unknown[] = []
    const idle = new ReadDeadline(1000, clock, (error) => failures.push(error))
    idle.started()
    idle.answered()
    clock.advance(1000)
    expect(clock.pending).toBe(0)
    idle.started()
    idle.stop()
    expect(clock.pending).toBe(0)
    idle.started()
    clock.advance(5000)
    expect(failures).toEqual([])
  })
})
