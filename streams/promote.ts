import { Observable, type MonoTypeOperatorFunction, type SchedulerLike, asyncScheduler } from 'rxjs'

export interface PromotionOptions {
  /** Hits in the lower tier before an entry moves up. 1 promotes on the first hit. */
  after: number
  /** Ms within which those hits must fall; counting starts again after it. */
  within?: number
  /** Keys counted at once; the oldest counts are dropped past it. */
  maxTracked?: number
}

/**
 * Lets through the hits that earn a promotion: the `after`-th hit on a key
 * within `within` ms of its first counted hit. The hit that earns it passes
 * in the same frame; the others are dropped.
 *
 * ```
 * after 2, within 5:
 * hits:    a-a---b------b-----b-b
 * output:  --a------------------b
 * ```
 */
export function promote<T extends { key: string }>(
  options: PromotionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): MonoTypeOperatorFunction<T> {
  const { after, within = Infinity, maxTracked = 10_000 } = options
  return (source) =>
    new Observable<T>((subscriber) => {
      if (after <= 1) return source.subscribe(subscriber)
      const counts = new Map<string, { hits: number; since: number }>()
      const subscription = source.subscribe({
        next(hit) {
          const now = scheduler.now()
          let count = counts.get(hit.key)
          if (count === undefined || now - count.since > within) {
            counts.delete(hit.key)
            if (counts.size >= maxTracked) counts.delete(counts.keys().next().value as string)
            count = { hits: 0, since: now }
            counts.set(hit.key, count)
          }
          if (++count.hits >= after) {
            counts.delete(hit.key)
            subscriber.next(hit)
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      })
      return () => {
        subscription.unsubscribe()
        counts.clear()
      }
    })
}
