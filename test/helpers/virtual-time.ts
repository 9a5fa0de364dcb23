import { VirtualTimeScheduler } from 'rxjs'

/** A scheduler whose clock moves only when the test says so. */
export class VirtualClock extends VirtualTimeScheduler {
  /** Runs every action due in the next `ms` and leaves the clock exactly `ms` later. */
  advance(ms: number): void {
    const target = this.frame + ms
    this.maxFrames = target
    this.schedule(() => {}, ms)
    this.flush()
    this.frame = target
  }

  /** Actions still waiting: a closed cache must leave none. */
  get pending(): number {
    return this.actions.length
  }
}
