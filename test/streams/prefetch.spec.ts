import { EMPTY, from } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { type PrefetchEvent, prefetch } from '../../streams/prefetch.js'
import { PredictionScore } from '../../src/prefetch/prediction-score.js'
import { testScheduler } from '../helpers/marbles.js'

const load = (key: string): PrefetchEvent => ({ type: 'load', key })
const loaded = (key: string): PrefetchEvent => ({ type: 'loaded', key })
const dropped = (key: string): PrefetchEvent => ({ type: 'dropped', key })
const held = (key: string): PrefetchEvent => ({ type: 'held', key })

/** Predicts `<key>'` after each access, e.g. a → a'. */
const primed = (key: string): string[] => [`${key}'`]

describe('prefetch', () => {
  it('starts a load in the frame of the access, and tells when it is done', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const accesses = hot('a-----b-----|')
      const flow = accesses.pipe(
        prefetch({
          maxInFlight: 4,
          minConfidence: 0.5,
          predict: primed,
          wanted: () => true,
          load: () => cold('---|'),
          score: new PredictionScore(),
        }),
      )
      expectObservable(flow).toBe('L--D--M--E--|', { L: load("a'"), D: loaded("a'"), M: load("b'"), E: loaded("b'") })
    })
  })

  it('never runs more than maxInFlight loads, and drops predictions beyond them', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const accesses = hot('abc---d')
      const flow = accesses.pipe(
        prefetch({ maxInFlight: 2, minConfidence: 0, predict: primed, wanted: () => true, load: () => cold('----|'), score: new PredictionScore() }),
      )
      expectObservable(flow, '^------!').toBe('ABC-DEF', {
        A: load("a'"),
        B: load("b'"),
        C: dropped("c'"),
        D: loaded("a'"),
        E: loaded("b'"),
        F: load("d'"),
      })
    })
  })

  it('sheds a burst: in one frame, only maxInFlight loads start', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const accesses = hot('(abcde)')
      const flow = accesses.pipe(
        prefetch({ maxInFlight: 2, minConfidence: 0, predict: primed, wanted: () => true, load: () => cold('-----|'), score: new PredictionScore() }),
      )
      expectObservable(flow, '^--!').toBe('(ABCDE)', { A: load("a'"), B: load("b'"), C: dropped("c'"), D: dropped("d'"), E: dropped("e'") })
    })
  })

  it('skips keys that are not wanted (already cached or loading)', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const flow = hot('ab').pipe(
        prefetch({ maxInFlight: 4, minConfidence: 0, predict: primed, wanted: (key) => key !== "a'", load: () => cold('|'), score: new PredictionScore() }),
      )
      expectObservable(flow, '^-!').toBe('-(BD)', { B: load("b'"), D: loaded("b'") })
    })
  })

  it('holds its loads while predictions fail, and loads again once they come true', () => {
    const score = new PredictionScore(4, 2)
    const events: PrefetchEvent[] = []
    // Phase 1: xN predicts xN', which never comes: each is judged wrong two accesses later.
    // Phase 2: y predicts y', which comes next every time.
    const accesses = [...Array.from({ length: 10 }, (_, i) => `x${i}`), ...Array(6).fill(['y', "y'"]).flat()]
    const predict = (key: string): string[] => (key.startsWith('x') || key === 'y' ? [`${key}'`] : [])
    from(accesses)
      .pipe(prefetch({ maxInFlight: 8, minConfidence: 0.5, minJudged: 4, predict, wanted: () => true, load: () => EMPTY, score }))
      .subscribe((event) => events.push(event))
    const kinds = events.filter((e) => e.type !== 'loaded').map((e) => `${e.type}:${e.key}`)
    // Loads until four judgements are in (at x6, all wrong); then held, x and y alike, until y'
    // has come true twice, lifting the accuracy over the last four back to one half: loads again.
    expect(kinds).toEqual([
      "load:x0'", "load:x1'", "load:x2'", "load:x3'", "load:x4'", "load:x5'",
      "held:x6'", "held:x7'", "held:x8'", "held:x9'",
      "held:y'", "held:y'", "load:y'", "load:y'", "load:y'", "load:y'",
    ])
  })

  it('stops its loads when unsubscribed', () => {
    testScheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const loadTimer = cold('-----|')
      const flow = hot('a').pipe(
        prefetch({ maxInFlight: 1, minConfidence: 0, predict: primed, wanted: () => true, load: () => loadTimer, score: new PredictionScore() }),
      )
      expectObservable(flow, '^--!').toBe('L', { L: load("a'") })
      expectSubscriptions(loadTimer.subscriptions).toBe('^--!')
    })
  })
})
