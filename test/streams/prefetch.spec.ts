import { tap } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { type PrefetchEvent, prefetch } from '../../streams/prefetch.js'
import { PredictionScore } from '../../src/prefetch/prediction-score.js'
import { PrefetchBuffer } from '../../src/prefetch/prefetch-buffer.js'
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

  it('pauses when what it loads is not used, keeps judging what it holds, and loads again once that would be used', () => {
    // The cache around the flow, in small: a load lands in a buffer of one value after a frame; a read
    // takes its key's value from the buffer. The buffer tells the score how each value left it.
    const score = new PredictionScore({ window: 4, shadowCapacity: 1 })
    const buffer = new PrefetchBuffer<string>(1, (_key, used) => score.judge(used))
    testScheduler().run(({ hot, cold, expectObservable }) => {
      // x predicts x' (p predicts p'); a primed key predicts nothing.
      const predict = (key: string): string[] => (key.endsWith("'") ? [] : [`${key}'`])
      const reads = { a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', p: 'p', P: "p'", q: 'q', Q: "q'", r: 'r', R: "r'", s: 's', S: "s'" }
      // a–e: what is loaded is never read. p, q, r, s: each is followed by its primed key.
      const accesses = hot('a-b-c-d-e-pP-qQ-r-R-s-S', reads)
      const flow = accesses.pipe(
        tap((key) => buffer.take(key)),
        prefetch({
          maxInFlight: 4,
          minConfidence: 0.5,
          minJudged: 2,
          predict,
          wanted: () => true,
          load: (key) => cold('-|').pipe(tap({ complete: () => buffer.put(key, key) })),
          score,
        }),
      )
      // a' and b' are pushed out unread (2 wrong): from d on, predictions are held. e' pushes d' out
      // of the shadow, p' pushes e' (4 wrong). p' and q' are read while held (2 right: ½): r' loads
      // again, pushes c' out of the buffer (wrong), is read from the buffer (right), and so is s'.
      expectObservable(flow).toBe('AaBbCcD-E-H--I--Rr--Uu-', {
        A: load("a'"),
        a: loaded("a'"),
        B: load("b'"),
        b: loaded("b'"),
        C: load("c'"),
        c: loaded("c'"),
        D: held("d'"),
        E: held("e'"),
        H: held("p'"),
        I: held("q'"),
        R: load("r'"),
        r: loaded("r'"),
        U: load("s'"),
        u: loaded("s'"),
      })
    })
    // Nine verdicts: a', b', d', e' wrong; p', q' right; c' wrong; r', s' right. The last four: ¾.
    expect([score.judged, score.accuracy]).toEqual([9, 0.75])
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
