import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { VersionClock } from '../../src/coherence/version-clock.js'
import { VirtualClock } from '../helpers/virtual-time.js'

type Step = { kind: 'advance'; ms: number } | { kind: 'rewind'; ms: number } | { kind: 'next' } | { kind: 'observe'; version: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ kind: fc.constant('rewind' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.constant({ kind: 'next' as const }),
  fc.record({ kind: fc.constant('observe' as const), version: fc.integer({ min: 0, max: 2 ** 40 }) }),
)

/** A clock whose time the property moves at will, backwards too (a stepped system clock). */
class SteppedClock extends VirtualClock {
  rewind(ms: number): void {
    this.frame = Math.max(0, this.frame - ms)
  }
}

describe('VersionClock', () => {
  it('makes versions that only grow, whatever the clock does, each above every version observed before it', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const time = new SteppedClock()
        const clock = new VersionClock(time)
        let lastMade = -1
        let highestObserved = -1
        for (const s of steps) {
          if (s.kind === 'advance') time.advance(s.ms)
          else if (s.kind === 'rewind') time.rewind(s.ms)
          else if (s.kind === 'observe') {
            clock.observe(s.version)
            highestObserved = Math.max(highestObserved, s.version)
          } else {
            const version = clock.next()
            expect(version).toBeGreaterThan(lastMade)
            expect(version).toBeGreaterThan(highestObserved)
            expect(version).toBeGreaterThanOrEqual(time.now() * 1024)
            lastMade = version
          }
        }
      }),
    )
  })

  it('follows the scheduler time when no version ran ahead of it', () => {
    const time = new VirtualClock()
    const clock = new VersionClock(time)
    time.advance(10)
    expect(clock.next()).toBe(10 * 1024)
    expect(clock.next()).toBe(10 * 1024 + 1)
    time.advance(1)
    expect(clock.next()).toBe(11 * 1024)
  })

  it('ignores an observed version that is not a safe integer', () => {
    const clock = new VersionClock(new VirtualClock())
    clock.observe(Number.NaN)
    clock.observe(Number.POSITIVE_INFINITY)
    clock.observe(2 ** 60)
    expect(clock.next()).toBe(1)
  })
})
