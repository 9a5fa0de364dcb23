import { type Observable, of, throwError } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { backoff, type Dirty, type FlushInput, type FlushOptions, flush } from '../../streams/flush.js'
import { testScheduler } from '../helpers/marbles.js'

interface Op {
  key: string
  value: number
}

const options = (over: Partial<FlushOptions> = {}): FlushOptions => ({
  batchSize: 10,
  flushInterval: 5,
  maxDirty: 100,
  onFull: 'wait',
  retry: { attempts: 3, baseDelay: 4, maxDelay: 6 },
  random: () => 0,
  ...over,
})

const op = (key: string, value: number, seq = value): FlushInput<Op> => ({ type: 'op', op: { key, value }, seq, reserved: false })
const dirty = (key: string, value: number, seq = value, first = seq): Dirty<Op> => ({ op: { key, value }, seq, first })

describe('flush', () => {
  it('writes only the last op of a key that changed within the interval, once the oldest has waited flushInterval', () => {
    const calls: Op[][] = []
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const input = hot('-abc-----', { a: op('a', 1), b: op('a', 2), c: op('b', 3) })
      const write = (ops: readonly Op[]) => (calls.push([...ops]), cold('-|'))
      // a is dirty from frame 1: its batch leaves at 6 and is written at 7.
      expectObservable(flush(input, write, options()), '^--------!').toBe('--c----w-', {
        c: { type: 'coalesced', key: 'a' },
        w: { type: 'written', batch: [dirty('a', 2, 2, 1), dirty('b', 3)], ms: 1 },
      })
    })
    expect(calls).toEqual([
      [
        { key: 'a', value: 2 },
        { key: 'b', value: 3 },
      ],
    ])
  })

  it('sends a batch as soon as batchSize ops wait, and the rest after the interval', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const input = hot('-abc-------', { a: op('a', 1), b: op('b', 2), c: op('c', 3) })
      const write = () => cold('-|')
      expectObservable(flush(input, write, options({ batchSize: 2 })), '^----------!').toBe('---x-----y-', {
        x: { type: 'written', batch: [dirty('a', 1), dirty('b', 2)], ms: 1 },
        // c waited from frame 3: its batch leaves at 8.
        y: { type: 'written', batch: [dirty('c', 3)], ms: 1 },
      })
    })
  })

  it('keeps one batch in flight: the next starts when the last is written, and a key rewritten meanwhile goes again', () => {
    const calls: [number, Op[]][] = []
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const input = hot('(ab)-c----', { a: op('a', 1), b: op('b', 2), c: op('a', 3) })
      const write = (ops: readonly Op[]) => (calls.push([0, [...ops]]), cold('---|'))
      expectObservable(flush(input, write, options({ batchSize: 1 })), '^---------!').toBe('---x--y--z', {
        x: { type: 'written', batch: [dirty('a', 1)], ms: 3 },
        y: { type: 'written', batch: [dirty('b', 2)], ms: 3 },
        z: { type: 'written', batch: [dirty('a', 3)], ms: 3 },
      })
    })
    expect(calls.map(([, ops]) => ops.map((o) => `${o.key}${o.value}`))).toEqual([['a1'], ['b2'], ['a3']])
  })

  it('retries a failed batch after the jittered backoff, and past attempts reports it and tries again after the interval', () => {
    let calls = 0
    const error = new Error('down')
    testScheduler().run(({ hot, expectObservable }) => {
      const input = hot('a---------------', { a: op('a', 1) })
      const write = (): Observable<unknown> => (++calls <= 3 ? throwError(() => error) : of(undefined))
      const batch = [dirty('a', 1)]
      // Tries at 5, 7 (delay 4/2), 10 (delay 6/2); failed at 10; the interval after it: 15.
      expectObservable(flush(input, write, options()), '^---------------!').toBe('-----r-s--f----w', {
        r: { type: 'retry', batch, attempt: 1, delay: 2, error },
        s: { type: 'retry', batch, attempt: 2, delay: 3, error },
        f: { type: 'failed', batch, error },
        w: { type: 'written', batch, ms: 0 },
      })
    })
    expect(calls).toBe(4)
  })

  it('keeps the backoff between half its cap and its cap, and the cap within baseDelay * 2^(n-1) and maxDelay', () => {
    const retry = { attempts: 20, baseDelay: 10, maxDelay: 1000 }
    for (let n = 1; n < 20; n++) {
      const cap = Math.min(1000, 10 * 2 ** (n - 1))
      expect(backoff(n, retry, () => 0)).toBe(cap / 2)
      expect(backoff(n, retry, () => 0.999_999)).toBeLessThanOrEqual(cap)
      expect(backoff(n, retry, () => 0.999_999)).toBeGreaterThan(cap * 0.99)
    }
  })

  it('refuses a reservation past maxDirty under onFull reject, counting reservations not yet used', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const input = hot<FlushInput<Op>>('abc', { a: op('a', 1), b: { type: 'reserve', id: 1 }, c: { type: 'reserve', id: 2 } })
      expectObservable(
        flush(input, () => of(undefined), options({ maxDirty: 2, onFull: 'reject' })),
        '^--!',
      ).toBe('-xy', {
        x: { type: 'room', id: 1 },
        y: { type: 'full', id: 2 },
      })
    })
  })

  it('makes a reservation wait past maxDirty under onFull wait, sending a batch at once and giving room when it is written', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const input = hot<FlushInput<Op>>('a-r------', { a: op('a', 1), r: { type: 'reserve', id: 7 } })
      expectObservable(
        flush(input, () => cold('--|'), options({ maxDirty: 1, flushInterval: 50 })),
        '^--------!',
      ).toBe('----(wx)-', {
        w: { type: 'written', batch: [dirty('a', 1)], ms: 2 },
        x: { type: 'room', id: 7 },
      })
    })
  })

  it('gives back the room of a reservation released unused', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const input = hot<FlushInput<Op>>('abcd', {
        a: { type: 'reserve', id: 1 },
        b: { type: 'reserve', id: 2 },
        c: { type: 'release' },
        d: { type: 'reserve', id: 3 },
      })
      expectObservable(
        flush(input, () => of(undefined), options({ maxDirty: 1, onFull: 'reject' })),
        '^---!',
      ).toBe('xy-z', {
        x: { type: 'room', id: 1 },
        y: { type: 'full', id: 2 },
        z: { type: 'room', id: 3 },
      })
    })
  })

  it('answers a flush once every op dirty at the request is written, not waiting for the interval', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const input = hot<FlushInput<Op>>('ab-c-----', { a: op('a', 1), b: { type: 'flush', id: 1 }, c: op('c', 2) })
      expectObservable(
        flush(input, () => cold('--|'), options({ flushInterval: 50 })),
        '^--------!',
      ).toBe('---(wf)--', {
        w: { type: 'written', batch: [dirty('a', 1)], ms: 2 },
        f: { type: 'flushed', id: 1 },
      })
    })
  })

  it('answers a flush with nothing dirty at once, and fails it with the error of a batch that failed for good', () => {
    const error = new Error('down')
    testScheduler().run(({ hot, expectObservable }) => {
      const input = hot<FlushInput<Op>>('ab-c----', { a: { type: 'flush', id: 1 }, b: op('a', 1), c: { type: 'flush', id: 2 } })
      const flow = flush(input, () => throwError(() => error), options({ retry: { attempts: 1, baseDelay: 1, maxDelay: 1 }, flushInterval: 50 }))
      expectObservable(flow, '^-------!').toBe('x--(ef)-', {
        x: { type: 'flushed', id: 1 },
        e: { type: 'failed', batch: [dirty('a', 1)], error },
        f: { type: 'flush-failed', id: 2, error },
      })
    })
  })

  it('flushes what waits when its input completes, then completes', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const input = hot('ab|', { a: op('a', 1), b: op('b', 2) })
      expectObservable(flush(input, () => cold('-|'), options({ flushInterval: 50 }))).toBe('---(w|)', {
        w: { type: 'written', batch: [dirty('a', 1), dirty('b', 2)], ms: 1 },
      })
    })
  })

  it('completes after one round of tries at close when the source fails, leaving the ops dirty', () => {
    const error = new Error('down')
    testScheduler().run(({ hot, expectObservable }) => {
      const input = hot('a|', { a: op('a', 1) })
      const flow = flush(input, () => throwError(() => error), options({ retry: { attempts: 2, baseDelay: 2, maxDelay: 2 } }))
      expectObservable(flow).toBe('-r(f|)', {
        r: { type: 'retry', batch: [dirty('a', 1)], attempt: 1, delay: 1, error },
        f: { type: 'failed', batch: [dirty('a', 1)], error },
      })
    })
  })

  it('completes at once on an empty input, stays silent on one that never emits, and passes an error on', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(flush(cold<FlushInput<Op>>('|'), () => of(undefined), options())).toBe('|')
      expectObservable(flush(cold<FlushInput<Op>>('-'), () => of(undefined), options())).toBe('-')
      expectObservable(flush(cold<FlushInput<Op>>('--#'), () => of(undefined), options())).toBe('--#')
    })
  })

  it('stops the write in flight and every timer when unsubscribed or when its input errors', () => {
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const input = hot('a---------', { a: op('a', 1) })
      const write = cold('------|')
      expectObservable(
        flush(input, () => write, options()),
        '^-------!',
      ).toBe('---------')
      expectSubscriptions(write.subscriptions).toBe('-----^--!')
    })
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const input = hot('a------#', { a: op('a', 1) })
      const write = cold('------|')
      expectObservable(flush(input, () => write, options())).toBe('-------#')
      expectSubscriptions(write.subscriptions).toBe('-----^-!')
    })
  })
})
