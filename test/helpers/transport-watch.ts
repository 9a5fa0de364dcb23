import { merge } from 'rxjs'
import type { Invalidation, Transport, TransportState } from '../../src/coherence/invalidation.js'

/** What a transport emitted, kept from the start, and a way to wait for what comes next without polling. */
export interface TransportWatch {
  readonly messages: Invalidation[]
  readonly states: TransportState[]
  /** Resolves once `done()` holds, checked now and after each emission; rejects after `ms`. */
  until(done: () => boolean, what: string, ms?: number): Promise<void>
  /** The next state called `name` from now on. */
  next<S extends TransportState['state']>(name: S, ms?: number): Promise<Extract<TransportState, { state: S }>>
  stop(): void
}

export function watchTransport(transport: Transport): TransportWatch {
  const messages: Invalidation[] = []
  const states: TransportState[] = []
  const checks = new Set<() => void>()
  const subscription = merge(transport.messages$, transport.state$).subscribe((value) => {
    if ('state' in value) states.push(value)
    else messages.push(value)
    for (const check of [...checks]) check()
  })
  const until = (done: () => boolean, what: string, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        checks.delete(check)
        reject(new Error(`no ${what} within ${ms} ms; states ${JSON.stringify(states)}, ${messages.length} messages`))
      }, ms)
      const check = (): void => {
        if (!done()) return
        clearTimeout(timer)
        checks.delete(check)
        resolve()
      }
      checks.add(check)
      check()
    })
  return {
    messages,
    states,
    until,
    next: async (name, ms) => {
      const from = states.length
      let found: TransportState | undefined
      await until(() => (found = states.slice(from).find((s) => s.state === name)) !== undefined, `state ${name}`, ms)
      return found as never
    },
    stop: () => subscription.unsubscribe(),
  }
}
