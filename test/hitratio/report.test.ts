import { describe, expect, it } from 'vitest'
import { checkTargets, gapClosed, markdownReport, machine, type Row, summarize } from '../../bench/hitratio/report.js'

/** A row of 1,000 requests with the given hit counts. */
const row = (trace: string, opt: number, lru: number, policies: Record<string, number>): Row => ({
  trace,
  size: 10,
  requests: 1000,
  distinct: 100,
  opt: { hits: opt, ms: 1 },
  optBypass: opt,
  lru: { hits: lru, ms: 1 },
  policies: Object.fromEntries(Object.entries(policies).map(([name, hits]) => [name, { hits, ms: 1 }])),
})

describe('hit-ratio report', () => {
  it('gap closed is (p − lru) / (opt − lru), undefined without a gap', () => {
    const r = row('t', 600, 400, { x: 500 })
    expect(gapClosed(500, r)).toBe(0.5)
    expect(gapClosed(300, r)).toBe(-0.5)
    expect(gapClosed(500, row('t', 400, 400, {}))).toBeUndefined()
  })

  it('checks the default and learned targets row by row', () => {
    const rows = [
      // w-tinylfu closes 60 % of the gap on a and −5 % on b: mean 27.5 %, a miss; 0.5 points below LRU on b, within 1.
      // learned: 0.5 points below LFU on a, 1.5 below LRU on b: a miss.
      row('a', 600, 400, { lru: 400, lfu: 500, 'w-tinylfu': 520, learned: 495 }),
      row('b', 500, 400, { lru: 400, lfu: 300, 'w-tinylfu': 395, learned: 385 }),
    ]
    const summaries = summarize(rows, ['lru', 'lfu', 'w-tinylfu', 'learned'])
    expect(summaries.find((s) => s.policy === 'w-tinylfu')?.meanGapClosed).toBeCloseTo(0.275)
    const checks = checkTargets(rows, summaries, 'w-tinylfu')
    expect(checks.map((c) => [c.policy, c.pass])).toEqual([
      ['w-tinylfu', false],
      ['w-tinylfu', true],
      ['learned', false],
    ])
    expect(checks[2].detail).toContain('b @ 10')
  })

  it('reports a default policy that was not run as a miss', () => {
    const rows = [row('a', 600, 400, { lru: 400 })]
    const checks = checkTargets(rows, summarize(rows, ['lru']), 'w-tinylfu')
    expect(checks).toHaveLength(1)
    expect(checks[0].pass).toBe(false)
  })

  it('writes a Markdown page with the machine, the date and the table', () => {
    const rows = [row('a', 600, 400, { lru: 400, lfu: 500 })]
    const summaries = summarize(rows, ['lru', 'lfu'])
    const page = markdownReport({
      machine: machine(),
      quick: false,
      limit: undefined,
      defaultPolicy: 'lru',
      policies: ['lru', 'lfu'],
      traces: [{ name: 'a', description: 'a trace', requests: 1000, distinct: 100 }],
      rows,
      summaries,
      targets: checkTargets(rows, summaries, 'lru'),
      notes: [],
      totalMs: 1,
    })
    expect(page).toContain('| a | 10 | 60.00 | 40.00 | 40.00 (0 %) | **50.00 (50 %)** |')
    expect(page).toMatch(/Date: \d{4}-\d\d-\d\d/)
    expect(page).toContain('## How to read this')
  })
})
