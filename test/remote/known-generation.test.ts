import { describe, expect, it } from 'vitest'
import { KnownGeneration } from '../../src/remote/known-generation.js'

const live = (): KnownGeneration => {
  const generation = new KnownGeneration()
  generation.connected()
  return generation
}

describe('KnownGeneration', () => {
  it('is unknown until a script says it, and learns nothing before the bus connects', () => {
    const generation = new KnownGeneration()
    generation.learnt(3)
    expect(generation.current).toBeUndefined()
    generation.connected()
    expect(generation.current).toBeUndefined()
    generation.learnt(3)
    expect(generation.current).toBe(3)
  })

  it('never goes back: a reply of a script that ran before a clear the bus told leaves the newer generation', () => {
    const generation = live()
    generation.learnt(3)
    generation.cleared(7)
    expect(generation.current).toBe(7)
    generation.learnt(3)
    expect(generation.current).toBe(7)
  })

  it('keeps a clear told while unknown as a floor for the next reply', () => {
    const generation = live()
    generation.cleared(9)
    expect(generation.current).toBeUndefined()
    generation.learnt(4)
    expect(generation.current).toBe(9)
  })

  it('forgets the generation when the bus disconnects, and learns nothing until it is back', () => {
    const generation = live()
    generation.learnt(5)
    generation.disconnected()
    expect(generation.current).toBeUndefined()
    generation.learnt(6)
    expect(generation.current).toBeUndefined()
    generation.connected()
    generation.learnt(6)
    expect(generation.current).toBe(6)
  })

  it('after a gap, starts again from what the next reply says (a Redis that lost its data starts at generation 0)', () => {
    const generation = live()
    generation.cleared(12)
    generation.learnt(12)
    generation.forgetAll()
    expect(generation.current).toBeUndefined()
    generation.learnt(0)
    expect(generation.current).toBe(0)
  })
})
