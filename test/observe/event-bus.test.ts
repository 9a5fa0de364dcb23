import { describe, expect, it } from 'vitest'
import { EventBus } from '../../src/observe/event-bus.js'

describe('EventBus', () => {
  it('is listening exactly while someone subscribes', () => {
    const bus = new EventBus()
    expect(bus.listening).toBe(false)
    const first = bus.events$.subscribe()
    const second = bus.events$.subscribe()
    expect(bus.listening).toBe(true)
    first.unsubscribe()
    expect(bus.listening).toBe(true)
    second.unsubscribe()
    expect(bus.listening).toBe(false)
  })

  it('delivers to every subscriber, and completes them', () => {
    const bus = new EventBus()
    const seen: string[] = []
    let completed = 0
    for (const name of ['a', 'b']) {
      bus.events$.subscribe({ next: (e) => seen.push(`${name}:${e.type}`), complete: () => completed++ })
    }
    bus.emit({ type: 'clear', at: 1 })
    bus.complete()
    expect(seen).toEqual(['a:clear', 'b:clear'])
    expect(completed).toBe(2)
    expect(bus.listening).toBe(false)
  })
})
