import { describe, expect, it } from 'vitest'
import { demote } from '../../streams/demote.js'
import { testScheduler } from '../helpers/marbles.js'

const entry = (key: string, expiresAt = 0) => ({ key, expiresAt })

describe('demote', () => {
  it('passes each eviction on at once, alone, without a batch window', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const a = entry('a')
      const b = entry('b')
      const evictions = hot('-a--b|', { a, b })
      expectObservable(evictions.pipe(demote())).toBe('-x--y|', { x: [a], y: [b] })
    })
  })

  it('drops entries that expired before they arrive and reports them', () => {
    const dropped: string[] = []
    testScheduler().run(({ hot, expectObservable }) => {
      const a = entry('a', 2)
      const b = entry('b', 10)
      const evictions = hot('---a-b|', { a, b })
      const demotions = evictions.pipe(demote({ expired: (e) => dropped.push(e.key) }))
      expectObservable(demotions).toBe('-----y|', { y: [b] })
    })
    expect(dropped).toEqual(['a'])
  })

  it('collects a batch per window and skips empty windows', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const [a, b, c] = [entry('a'), entry('b'), entry('c')]
      const evictions = hot('-a-b-----c---', { a, b, c })
      expectObservable(evictions.pipe(demote({ batchWindow: 4 })), '^------------!').toBe('----x-------z', {
        x: [a, b],
        z: [c],
      })
    })
  })

  it('passes a full batch on before its window ends, and starts a new window then', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const [a, b, c] = [entry('a'), entry('b'), entry('c')]
      const evictions = hot('-abc------', { a, b, c })
      expectObservable(evictions.pipe(demote({ batchWindow: 6, maxBatch: 2 })), '^---------!').toBe('--x-----y-', {
        x: [a, b],
        y: [c],
      })
    })
  })

  it('drops an entry that expires while its batch waits', () => {
    const dropped: string[] = []
    testScheduler().run(({ hot, expectObservable }) => {
      const a = entry('a', 3)
      const b = entry('b')
      const evictions = hot('-ab----', { a, b })
      const demotions = evictions.pipe(demote({ batchWindow: 5, expired: (e) => dropped.push(e.key) }))
      expectObservable(demotions, '^------!').toBe('-----y-', { y: [b] })
    })
    expect(dropped).toEqual(['a'])
  })
})
