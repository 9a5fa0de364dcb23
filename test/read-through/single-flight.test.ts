import { describe, expect, it, vi } from 'vitest'
import { anyEntered } from '../../src/read-through/flight-scope.js'
import { SingleFlight } from '../../src/read-through/single-flight.js'
import { deferred } from '../helpers/deferred.js'

const ignore = (): void => undefined

// Tracking what runs inside a factory costs every promise in the process on Node 20: it must be
// on only while a guarded factory runs, however that factory ends.
describe('SingleFlight re-entry tracking', () => {
  it('is on while a guarded factory runs, and off once it has settled or failed', async () => {
    const flights = new SingleFlight<string>({ guardReentry: true })
    const gate = deferred<string>()
    const settled = flights.run('a', () => gate.promise, ignore)
    const failed = flights.run('b', () => Promise.reject(new Error('down')), ignore)
    const thrown = flights.run(
      'c',
      () => {
        throw new Error('sync')
      },
      ignore,
    )
    expect(anyEntered()).toBe(true)
    await Promise.allSettled([failed, thrown])
    expect(anyEntered()).toBe(true)
    gate.resolve('v')
    await settled
    expect(anyEntered()).toBe(false)
  })

  it('is off after close, even for a factory that ignores its signal and ends later', async () => {
    const flights = new SingleFlight<string>({ guardReentry: true })
    const gate = deferred<string>()
    const pending = flights.run('a', () => gate.promise, ignore)
    flights.close()
    await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(anyEntered()).toBe(false)
    gate.resolve('too late')
    await gate.promise
    expect(anyEntered()).toBe(false)
  })

  it('is never on for an unguarded flight', async () => {
    const flights = new SingleFlight<string>()
    let during: boolean | undefined
    await flights.run('a', async () => ((during = anyEntered()), 'v'), ignore)
    expect(during).toBe(false)
  })

  it('refuses to start a factory once closed', async () => {
    const flights = new SingleFlight<string>()
    flights.close()
    let calls = 0
    await expect(flights.run('a', () => (calls++, 'v'), ignore)).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(calls).toBe(0)
  })
})

describe('SingleFlight abort signals', () => {
  it('makes no AbortController for a factory that never reads its signal', async () => {
    const made = vi.spyOn(globalThis, 'AbortController')
    const flights = new SingleFlight<string>()
    await flights.run('k', async () => 'v', ignore)
    expect(made).not.toHaveBeenCalled()
    made.mockRestore()
  })

  it('rejects the waiters at close, and a signal first read after close is already aborted', async () => {
    const flights = new SingleFlight<string>()
    const gate = deferred<void>()
    let late: AbortSignal | undefined
    const pending = flights.run(
      'k',
      async (context) => {
        await gate.promise
        late = context.signal
        return 'v'
      },
      ignore,
    )
    flights.close()
    await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' })
    gate.resolve()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(late?.aborted).toBe(true)
    expect(late?.reason).toMatchObject({ code: 'E_CLOSED' })
  })
})

describe('SingleFlight abort signals of superseded flights', () => {
  // A newer write supersedes a flight without aborting it (its result is just not stored); close still aborts it.
  it('makes no controller when superseded, and its signal first read after close is aborted', async () => {
    const made = vi.spyOn(globalThis, 'AbortController')
    const flights = new SingleFlight<string>()
    const gate = deferred<void>()
    let context: { signal: AbortSignal } | undefined
    const pending = flights.run(
      'k',
      async (given) => {
        context = given
        await gate.promise
        return 'v'
      },
      ignore,
    )
    flights.supersede('k')
    expect(made).not.toHaveBeenCalled()
    made.mockRestore()
    flights.close()
    await expect(pending).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(context?.signal.aborted).toBe(true)
    expect(context?.signal.reason).toMatchObject({ code: 'E_CLOSED' })
    gate.resolve()
  })
})
