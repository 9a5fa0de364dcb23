import { Observable, type ObservableInput, type OperatorFunction, from } from 'rxjs'

/** What the flow asks of the accuracy score its owner keeps (the owner also reports load outcomes to it). */
export interface PrefetchScore {
  /** Right over judged so far. */
  readonly accuracy: number
  /** Verdicts so far. */
  readonly judged: number
  /** An access: settles held predictions of the key. */
  accessed(key: string): void
  /** A prediction held back, to be judged as if it had been loaded. */
  held(key: string): void
  /** A prediction being loaded. */
  loading(key: string): void
}

export interface PrefetchFlowOptions {
  /** Most loads under way at once; a prediction beyond it is dropped, not queued. */
  maxInFlight: number
  /** Below this accuracy (`score.accuracy`), predictions are held: judged in the score's shadow, not loaded. */
  minConfidence: number
  /** Judgements needed before the accuracy may pause loading. Default 16. */
  minJudged?: number
  /** What may come after this access (the predictors learn from the call). */
  predict: (key: string) => readonly string[]
  /** Whether a predicted key is worth loading: not cached, not being loaded. */
  wanted: (key: string) => boolean
  load: (key: string) => ObservableInput<unknown>
  score: PrefetchScore
}

export type PrefetchEvent =
  | { type: 'load'; key: string }
  | { type: 'loaded'; key: string }
  | { type: 'failed'; key: string; error: unknown }
  /** At `maxInFlight`: the prediction was dropped. */
  | { type: 'dropped'; key: string }
  /** Accuracy below `minConfidence`: held (judged in the score's shadow), not loaded. */
  | { type: 'held'; key: string }

/**
 * Turns the stream of accesses into loads of the keys predicted to come
 * next. Every access first settles held predictions of its key (in the
 * score's shadow), then predicts; each prediction worth loading starts a
 * load at once, in the frame of the access, unless the accuracy is below
 * `minConfidence` (then it is held: not loaded, but judged as if it had
 * been, so that loading resumes once predictions would be used again) or
 * `maxInFlight` loads already run (then it is dropped: work under load is
 * shed, never queued).
 *
 * The accuracy is `score`'s: the outcomes of loads (used, or wasted), which
 * whoever owns `load` reports to it with `score.judge`, and of held
 * predictions, which the flow feeds it.
 *
 * ```
 * accesses:  a-----b       predict(a) = [x], predict(b) = [y]; a load takes 3 frames
 * output:    L--D--L--D    L = load, D = loaded
 * ```
 */
export function prefetch(options: PrefetchFlowOptions): OperatorFunction<string, PrefetchEvent> {
  const { maxInFlight, minConfidence, minJudged = 16, score } = options
  return (accesses) =>
    new Observable<PrefetchEvent>((subscriber) => {
      let inFlight = 0
      const start = (key: string): void => {
        inFlight++
        subscriber.next({ type: 'load', key })
        let done = false
        const finish = (event: PrefetchEvent): void => {
          if (done) return
          done = true
          inFlight--
          subscriber.next(event)
        }
        subscriber.add(
          from(options.load(key)).subscribe({
            error: (error: unknown) => finish({ type: 'failed', key, error }),
            complete: () => finish({ type: 'loaded', key }),
          }),
        )
      }
      const subscription = accesses.subscribe({
        next(key) {
          score.accessed(key)
          for (const predicted of options.predict(key)) {
            if (!options.wanted(predicted)) continue
            if (score.judged >= minJudged && score.accuracy < minConfidence) {
              score.held(predicted)
              subscriber.next({ type: 'held', key: predicted })
            } else if (inFlight >= maxInFlight) {
              subscriber.next({ type: 'dropped', key: predicted })
            } else {
              score.loading(predicted)
              start(predicted)
            }
          }
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      })
      subscriber.add(subscription)
    })
}
