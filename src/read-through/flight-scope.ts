import { AsyncLocalStorage } from 'node:async_hooks'

/** The flights whose factories the running code was started from, innermost first. */
interface Scope {
  readonly flight: object
  readonly outer: Scope | undefined
}

const storage = new AsyncLocalStorage<Scope>()
let entered = 0

/**
 * Calls `fn` inside `flight`'s scope: the async work it starts, through any
 * number of awaits, is known to run for that flight. Each call must be
 * matched by one `leave` when the flight ends.
 */
export function enter<T>(flight: object, fn: () => T): T {
  entered++
  return storage.run({ flight, outer: storage.getStore() }, fn)
}

/**
 * A flight entered with `enter` has ended. When none is left, propagation is
 * switched off: on Node 20 it charges every promise in the process (a bare
 * `await` took about three times as long with it on, and as long as never
 * enabled once off again), so it runs only while some factory does.
 */
export function leave(): void {
  if (--entered === 0) storage.disable()
}

/** Whether the running code descends from the factory of `flight`, directly or through other flights' factories. */
export function within(flight: object): boolean {
  for (let scope = storage.getStore(); scope !== undefined; scope = scope.outer) if (scope.flight === flight) return true
  return false
}

/** Whether any flight's scope is open; for tests. */
export const anyEntered = (): boolean => entered !== 0
