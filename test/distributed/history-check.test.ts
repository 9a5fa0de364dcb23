import { describe, expect, it } from 'vitest'
import { type History, type Operation, type Received, type StreamEntry, type WorkerHistory, checkHistory } from './history-check.js'

/** Ms as an instant. */
const t = (ms: number): bigint => BigInt(Math.round(ms * 1000)) * 1000n

const set = (key: string, value: string, start: number, error?: string): Operation => ({ op: 'set', key, value, start: t(start), end: t(start + 1), error })
const del = (key: string, start: number, error?: string): Operation => ({ op: 'delete', key, start: t(start), end: t(start + 1), error })
const delTag = (tag: string, start: number): Operation => ({ op: 'deleteByTag', tag, start: t(start), end: t(start + 1) })
const get = (key: string, result: string | null, start: number): Operation => ({ op: 'get', key, result, start: t(start), end: t(start + 1) })
const got = (origin: string, version: number, keys: string[], at: number): Received => ({ origin, version, keys, at: t(at) })
const entry = (origin: string, version: number, keys: string[]): StreamEntry => ({ origin, version, keys })

function worker(name: string, ops: Operation[], received: Received[] = [], gaps: number[] = []): WorkerHistory {
  return { name, ops, received, gaps: gaps.map(t) }
}

const history = (epochs: StreamEntry[][], workers: WorkerHistory[]): History => ({ epochs, workers, tagKeys: { g: ['a', 'b'] } })

describe('the history checker', () => {
  it('passes a read that returns the newest version its reader knew, and measures receive time minus the writer’s ack', () => {
    const report = checkHistory(
      history(
        [[entry('w1', 1, ['a']), entry('w1', 2, ['a'])]],
        [
          worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10)]),
          worker('w2', [get('a', 'w1:1', 5), get('a', 'w1:2', 20)], [got('w1', 1, ['a'], 1.5), got('w1', 2, ['a'], 13)]),
        ],
      ),
    )
    expect(report.violations).toEqual([])
    expect(report.inconsistencies).toEqual([])
    expect(report.readsChecked).toBe(2)
    expect(report.latency).toEqual({ count: 2, p50: 0.5, p99: 2, max: 2 })
  })

  it('rejects a read that started after its worker received a newer version', () => {
    const report = checkHistory(
      history(
        [[entry('w1', 1, ['a']), entry('w1', 2, ['a'])]],
        [worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10)]), worker('w2', [get('a', 'w1:1', 20)], [got('w1', 2, ['a'], 12)])],
      ),
    )
    expect(report.violations).toMatchObject([{ kind: 'stale', worker: 'w2', known: '0:2', got: ['0:1'] }])
  })

  it('lets a read that started before the message arrived return the older version', () => {
    const report = checkHistory(
      history(
        [[entry('w1', 1, ['a']), entry('w1', 2, ['a'])]],
        [worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10)]), worker('w2', [get('a', 'w1:1', 11.9)], [got('w1', 2, ['a'], 12)])],
      ),
    )
    expect(report.violations).toEqual([])
  })

  it('holds a worker to its own acknowledged writes', () => {
    const report = checkHistory(
      history([[entry('w1', 1, ['a']), entry('w1', 2, ['a'])]], [worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10), get('a', 'w1:1', 20)])]),
    )
    expect(report.violations).toMatchObject([{ kind: 'stale', worker: 'w1', known: '0:2' }])
  })

  it('rejects a value read after its delete was received; a miss after a delete is no miss', () => {
    const report = checkHistory(
      history(
        [[entry('w1', 1, ['a']), entry('w1', 2, ['a'])]],
        [worker('w1', [set('a', 'w1:1', 0), del('a', 10)]), worker('w2', [get('a', null, 15), get('a', 'w1:1', 20)], [got('w1', 2, ['a'], 12)])],
      ),
    )
    expect(report.violations).toMatchObject([{ kind: 'stale', known: '0:2', got: ['0:1'] }])
    expect(report.misses).toBe(0)
  })

  it('counts a read that returns nothing while the key had a value as a miss, not a violation', () => {
    const report = checkHistory(
      history([[entry('w1', 1, ['a'])]], [worker('w1', [set('a', 'w1:1', 0)]), worker('w2', [get('a', null, 20)], [got('w1', 1, ['a'], 2)])]),
    )
    expect(report.violations).toEqual([])
    expect(report.misses).toBe(1)
  })

  it('rejects a value no write stored, and a value of another key', () => {
    const report = checkHistory(
      history([[entry('w1', 1, ['a'])]], [worker('w1', [set('a', 'w1:1', 0)]), worker('w2', [get('a', 'w9:1', 5), get('b', 'w1:1', 6)])]),
    )
    expect(report.violations.map((v) => v.kind)).toEqual(['phantom', 'wrong-key'])
  })

  it('maps a tag delete to the keys its entry lists', () => {
    const report = checkHistory(
      history(
        [[entry('w1', 1, ['a']), entry('w1', 2, ['b']), entry('w1', 3, ['a', 'b'])]],
        [worker('w1', [set('a', 'w1:1', 0), set('b', 'w1:2', 2), delTag('g', 4)]), worker('w2', [get('b', 'w1:2', 10)], [got('w1', 3, ['a', 'b'], 6)])],
      ),
    )
    expect(report.violations).toMatchObject([{ kind: 'stale', read: { key: 'b' }, known: '0:3' }])
  })

  describe('with writes that rejected (ambiguous: they may have reached Redis)', () => {
    it('finds that one did from the stream, and judges reads by it', () => {
      const report = checkHistory(
        history(
          [[entry('w1', 1, ['a']), entry('w1', 2, ['a'])]],
          [worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10, 'E_REMOTE')]), worker('w2', [get('a', 'w1:1', 30)], [got('w1', 2, ['a'], 25)])],
        ),
      )
      expect(report.ambiguousWrites).toBe(1)
      expect(report.violations).toMatchObject([{ kind: 'stale', known: '0:2' }])
      // Its writer had no ack: it measures no latency.
      expect(report.latency.count).toBe(0)
    })

    it('finds that one did not, and rejects a read of its value', () => {
      const report = checkHistory(
        history([[entry('w1', 1, ['a'])]], [worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10, 'E_REMOTE')]), worker('w2', [get('a', 'w1:2', 30)])]),
      )
      expect(report.violations).toMatchObject([{ kind: 'phantom' }])
    })

    it('does not guess which of two did: a read of either is not stale', () => {
      const report = checkHistory(
        history(
          [[entry('w1', 1, ['a'])]],
          [
            worker('w1', [set('a', 'w1:1', 0, 'E_REMOTE'), set('a', 'w1:2', 10, 'E_REMOTE')]),
            worker('w2', [get('a', 'w1:1', 30), get('a', 'w1:2', 31)], [got('w1', 1, ['a'], 20)]),
          ],
        ),
      )
      expect(report.violations).toEqual([])
      expect(report.inconsistencies).toEqual([])
    })

    it('places an acknowledged write between two ambiguous ones either way, and flags only what is stale under both', () => {
      // Entries 1 and 2: (ambiguous 1, acked) or (acked, ambiguous 3). The acked write is at version 1 or 2.
      const report = checkHistory(
        history(
          [[entry('w1', 1, ['a']), entry('w1', 2, ['a']), entry('w2', 3, ['a'])]],
          [
            worker('w1', [set('a', 'w1:1', 0, 'E_REMOTE'), set('a', 'w1:2', 10), set('a', 'w1:3', 20, 'E_REMOTE')]),
            worker('w2', [set('a', 'w2:1', 25), get('a', 'w1:2', 30)], [got('w1', 2, ['a'], 22)]),
            worker('w3', [get('a', 'w1:2', 40)], [got('w2', 3, ['a'], 35)]),
            // Stale only if the acked write was version 1: not flagged.
            worker('w4', [get('a', 'w1:2', 40)], [got('w1', 2, ['a'], 22)]),
          ],
        ),
      )
      expect(report.violations.map((v) => [v.worker, v.kind])).toEqual([
        ['w2', 'stale'],
        ['w3', 'stale'],
      ])
    })
  })

  it('reports an acknowledged write the stream lacks, an entry no write explains, and a message the stream lacks', () => {
    const lost = checkHistory(history([[entry('w1', 1, ['a'])]], [worker('w1', [set('a', 'w1:1', 0), set('a', 'w1:2', 10)])]))
    expect(lost.inconsistencies).toHaveLength(1)
    const extra = checkHistory(history([[entry('w1', 1, ['a']), entry('w1', 2, ['b'])]], [worker('w1', [set('a', 'w1:1', 0)])]))
    expect(extra.inconsistencies).toHaveLength(1)
    const unknown = checkHistory(history([[entry('w1', 1, ['a'])]], [worker('w1', [set('a', 'w1:1', 0)]), worker('w2', [], [got('w1', 7, ['a'], 3)])]))
    expect(unknown.inconsistencies).toHaveLength(1)
  })

  it('orders versions by epoch across a restart, and places each message in the epoch its worker was in', () => {
    const report = checkHistory(
      history(
        [[entry('w1', 1, ['a']), entry('w1', 2, ['b'])], [entry('w1', 1, ['a'])]],
        [
          worker('w1', [set('a', 'w1:1', 0), set('b', 'w1:2', 2), set('a', 'w1:3', 100)]),
          worker(
            'w2',
            [get('a', 'w1:1', 50), get('b', 'w1:2', 51), get('a', 'w1:1', 120)],
            [got('w1', 1, ['a'], 3), got('w1', 2, ['b'], 4), got('w1', 1, ['a'], 110)],
            [90],
          ),
        ],
      ),
    )
    expect(report.inconsistencies).toEqual([])
    expect(report.violations).toMatchObject([{ kind: 'stale', known: '1:1', got: ['0:1'] }])
    // After a restart emptied Redis, a miss of a key written before it is no miss.
    const after = checkHistory(
      history([[entry('w1', 1, ['a'])], []], [worker('w1', [set('a', 'w1:1', 0)]), worker('w2', [get('a', null, 120)], [got('w1', 1, ['a'], 3)], [90])]),
    )
    expect(after.misses).toBe(0)
  })
})
