import type { SchedulerLike } from 'rxjs'
import { type BreakerOptions, CircuitBreaker } from '../guards/circuit-breaker.js'

/**
 * The circuit breakers in front of the sources: one for the loader, and one
 * for `getOrSet` factories per breaker setting (calls with the same
 * `failures` and `cooldown` share one), made when first needed.
 */
export class SourceBreakers {
  readonly #scheduler: SchedulerLike
  #loader: CircuitBreaker | undefined
  readonly #factories = new Map<string, CircuitBreaker>()

  constructor(scheduler: SchedulerLike) {
    this.#scheduler = scheduler
  }

  loader(options: Required<BreakerOptions>): CircuitBreaker {
    this.#loader ??= new CircuitBreaker(options, this.#scheduler)
    return this.#loader
  }

  factory(options: Required<BreakerOptions>): CircuitBreaker {
    const setting = `${options.failures}/${options.cooldown}`
    let breaker = this.#factories.get(setting)
    if (breaker === undefined) this.#factories.set(setting, (breaker = new CircuitBreaker(options, this.#scheduler)))
    return breaker
  }
}
