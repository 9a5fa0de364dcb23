import { Subject } from 'rxjs'
import type { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { type Inbox, inbox, type Letter, type WhenFull } from '../../streams/inbox.js'
import { isCacheError } from '../../src/errors.js'
import { testScheduler } from '../helpers/marbles.js'

type Helpers = Parameters<Parameters<TestScheduler['run']>[0]>[0]

/**
 * A letter whose work takes `work` (a cold marble), telling `replies` how it
 * ended: its value, the first letter of the error's code (B for
 * E_BACKPRESSURE, C for E_CLOSED), or ? for another failure.
 */
function letter(helpers: Helpers, work: string, value: string, replies: Subject<string>, started?: () => void): Letter<string> {
  return {
    units: 0,
    work: () => {
      started?.()
      return helpers.cold(work, { x: value })
    },
    done: (error, result) => replies.next(error === undefined ? (result as string) : isCacheError(error) ? error.code.slice(2, 3) : '?'),
  }
}

const box = (whenFull: WhenFull, capacity = 2, concurrency = 1): Inbox => inbox({ capacity, concurrency, whenFull, name: 'test' })

describe('inbox', () => {
  it('works on a request in the frame it arrives while under both bounds, and one at a time past the concurrency', () => {
    const scheduler = testScheduler()
    const started: string[] = []
    scheduler.run((helpers) => {
      const replies = new Subject<string>()
      const requests = box('wait', 4, 2)
      const start = (value: string) => () => started.push(`${value}@${scheduler.now()}`)
      helpers.hot('a-b-c').subscribe((value) => requests.ask(letter(helpers, '---(x|)', value, replies, start(value))))
      helpers.expectObservable(replies).toBe('---a-b-c')
    })
    expect(started).toEqual(['a@0', 'b@2', 'c@4'])
  })

  it('makes a request wait for room when full and told to wait', () => {
    testScheduler().run((helpers) => {
      const replies = new Subject<string>()
      const requests = box('wait', 2, 4)
      // Room for two: c, arriving with them, waits until a is done (frame 1), though more could work at once.
      const work: Record<string, string> = { a: '-(x|)', b: '----(x|)', c: '-(x|)' }
      helpers.hot('(abc)').subscribe((value) => requests.ask(letter(helpers, work[value], value, replies)))
      helpers.expectObservable(replies).toBe('-ac-b')
    })
  })

  it('rejects a request at once with E_BACKPRESSURE when full and told to reject, and takes the next once there is room', () => {
    testScheduler().run((helpers) => {
      const replies = new Subject<string>()
      const requests = box('reject')
      // c is refused in its frame; d, at frame 3, finds room again.
      const ask = (value: string) => requests.ask(letter(helpers, '--(x|)', value, replies))
      helpers.hot('(abc)').subscribe(ask)
      helpers.hot('---d').subscribe(ask)
      helpers.expectObservable(replies).toBe('B-a-b-d')
    })
  })

  it('a request that cannot wait is refused when full, and units held outside work count against the bound', () => {
    const requests = box('wait', 3)
    expect([requests.hold(), requests.hold(), requests.hold(), requests.hold()]).toEqual([true, true, true, false])
    expect(requests.held).toBe(3)
    requests.release(1)
    expect(requests.hold()).toBe(true)
    expect(requests.hasRoom).toBe(false)
  })

  it('moves waiting senders in as units are released, oldest first', () => {
    testScheduler().run((helpers) => {
      const replies = new Subject<string>()
      const requests = box('wait', 1, 4)
      requests.hold()
      helpers.hot('ab').subscribe((value) => requests.ask(letter(helpers, '-(x|)', value, replies)))
      helpers.hot('---r').subscribe(() => requests.release(1))
      // Both wait for the held unit; a moves in at 3, b once a is done.
      helpers.expectObservable(replies).toBe('----ab')
    })
  })

  it('carries work whose units are held elsewhere without taking more', () => {
    testScheduler().run((helpers) => {
      const replies = new Subject<string>()
      const requests = box('reject', 1, 1)
      expect(requests.hold()).toBe(true)
      requests.carry(letter(helpers, '--(x|)', 'w', replies))
      expect(requests.held).toBe(1)
      helpers.expectObservable(replies).toBe('--w')
    })
  })

  it('reports a failed work to its sender and goes on with the next', () => {
    testScheduler().run((helpers) => {
      const replies = new Subject<string>()
      const requests = box('wait', 4, 1)
      requests.ask(letter(helpers, '-#', 'a', replies))
      requests.ask(letter(helpers, '-(x|)', 'b', replies))
      helpers.expectObservable(replies).toBe('-?b')
    })
  })

  it('fails waiting senders with E_CLOSED when closed, and takes nothing more', () => {
    let requests = box('wait')
    testScheduler().run((helpers) => {
      const replies = new Subject<string>()
      requests = box('wait', 1, 1)
      requests.ask(letter(helpers, '--(x|)', 'a', replies))
      requests.ask(letter(helpers, '--(x|)', 'b', replies))
      helpers.hot('-c').subscribe(() => requests.close())
      helpers.hot('---d').subscribe(() => requests.ask(letter(helpers, '-(x|)', 'd', replies)))
      // b fails when closed; a, under way, ends as it does; d is refused.
      helpers.expectObservable(replies).toBe('-CaC')
    })
    expect(requests.hold()).toBe(false)
  })

  it('settles work given as a Promise with its value or its reason, in order of settling, and gives its unit back', async () => {
    const requests = box('reject', 2, 2)
    const told: string[] = []
    const tell = (error: unknown, value: unknown): void => {
      told.push(error === undefined ? String(value) : error instanceof Error ? error.message : String(error))
    }
    let fail: (reason: unknown) => void = () => undefined
    requests.ask({ units: 0, work: () => new Promise((_, reject) => (fail = reject)), done: tell })
    requests.ask({ units: 0, work: () => Promise.resolve('b'), done: tell })
    expect(requests.held).toBe(2)
    await Promise.resolve()
    await Promise.resolve()
    expect(told).toEqual(['b'])
    expect(requests.held).toBe(1)
    fail(undefined)
    await Promise.resolve()
    await Promise.resolve()
    expect(told).toEqual(['b', 'the work failed without a reason'])
    expect(requests.held).toBe(0)
  })

  it('holds Promise work past the concurrency bound in order, starting each as one before it settles, and goes on past work that throws', async () => {
    const requests = box('wait', 8, 2)
    const started: string[] = []
    const told: string[] = []
    const settle = new Map<string, (value: string) => void>()
    const promised = (name: string) => ({
      units: 0,
      work: () => {
        started.push(name)
        return new Promise<string>((resolve) => settle.set(name, resolve))
      },
      done: (error: unknown, value: unknown) => told.push(error === undefined ? String(value) : 'failed'),
    })
    const throwing = {
      units: 0,
      work: (): Promise<string> => {
        started.push('t')
        throw new Error('no work')
      },
      done: (error: unknown) => told.push(error === undefined ? 'ok' : 'failed'),
    }
    requests.ask(promised('a'))
    requests.ask(promised('b'))
    requests.ask(throwing)
    requests.ask(promised('c'))
    // Two at work; the throwing one and c wait their turn, in order.
    expect(started).toEqual(['a', 'b'])
    settle.get('b')?.('B')
    await Promise.resolve()
    await Promise.resolve()
    // b's end starts t, which fails at once and starts c in the same turn.
    expect(started).toEqual(['a', 'b', 't', 'c'])
    expect(told).toEqual(['B', 'failed'])
    settle.get('a')?.('A')
    settle.get('c')?.('C')
    await Promise.resolve()
    await Promise.resolve()
    expect(told).toEqual(['B', 'failed', 'A', 'C'])
    expect(requests.held).toBe(0)
  })
})
