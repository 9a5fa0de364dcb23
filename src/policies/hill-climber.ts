// Caffeine's hill climber: HILL_CLIMBER_STEP_PERCENT, _STEP_DECAY_RATE, _RESTART_THRESHOLD.
const CLIMB_STEP = 0.0625
const CLIMB_STEP_DECAY = 0.98
const CLIMB_RESTART = 0.05

/**
 * Caffeine's `climb()`, on a share of the cache: keep stepping the share in
 * the same direction while the hit ratio does not drop, reverse when it does;
 * the step decays by 2 % a sample and restarts at full size (0.0625) when the
 * hit ratio moves by 5 points or more (the workload changed). The first step
 * shrinks. The caller counts each sample's hits and misses.
 */
export class HillClimber {
  #previousHitRate = 0
  #step = -CLIMB_STEP

  /** The change of the share after a sample with this hit ratio (0 to 1). */
  adjust(hitRate: number): number {
    const change = hitRate - this.#previousHitRate
    const amount = change >= 0 ? this.#step : -this.#step
    this.#step = Math.abs(change) >= CLIMB_RESTART ? (amount >= 0 ? CLIMB_STEP : -CLIMB_STEP) : CLIMB_STEP_DECAY * amount
    this.#previousHitRate = hitRate
    return amount
  }
}
