import type { CacheOptions } from '../../../src/index.js'
import type { Stamped } from './stamped.js'

export const KEYS = Array.from({ length: 40 }, (_, i) => `k${i}`)
export const TAGS = ['a', 'b', 'c']

export type Outcome = number | 'absent'

/** One operation of the crash child, as logged before it runs. */
export type LoggedOp =
  | { t: 'set'; k: string; v: number; tags?: string[]; ttl?: number; at: number }
  | { t: 'del' | 'get'; k: string }
  | { t: 'tag'; tag: string }
  | { t: 'cp' | 'reopen' | 'clear' }

/** Tiny tiers and segments: most values reach the disk, and overwrites keep compaction busy. */
export const crashOptions = (dir: string, fsync: 'always' | 'interval' | 'never'): CacheOptions<Stamped> => ({
  hot: { maxEntries: 4 },
  warm: { maxBytes: 2048 },
  cold: { dir, segmentBytes: 4096, maxBytes: 256 * 1024, fsync, fsyncInterval: 20, compactionThreshold: 0.3 },
})

/** What a version was written with. */
export interface VersionMeta {
  tags: readonly string[]
  /** ms since epoch, 0 for none. */
  expiresAt: number
}

/** The state a round starts from, handed to the child: key -> its current version. */
export type Baseline = Record<string, { v: number } & VersionMeta>

/** What every key may read as after a kill: its value at the last completed checkpoint, or any outcome acknowledged (or in flight) after it. */
export interface Allowed {
  outcomes: Map<string, Set<Outcome>>
  /** What the child itself found wrong while it ran. */
  violations: string[]
}

/**
 * Replays a round's log over the state the round started from. `baseline` is
 * what the previous check read (then made durable by a completed close).
 * `versions` gathers, across rounds, each version's tags and expiry.
 */
export function replay(lines: readonly string[], baseline: ReadonlyMap<string, Outcome>, versions: Map<number, VersionMeta>): Allowed {
  const current = new Map(baseline)
  const tags = new Map<string, readonly string[]>()
  for (const [key, outcome] of baseline) if (outcome !== 'absent') tags.set(key, versions.get(outcome)?.tags ?? [])
  let durable = new Map(current)
  let since = new Map<string, Set<Outcome>>()
  const evicted = new Set<string>()
  const violations: string[] = []
  let pending: LoggedOp | undefined
  const note = (key: string, outcome: Outcome, into: Map<string, Set<Outcome>>): void => {
    let set = into.get(key)
    if (set === undefined) into.set(key, (set = new Set()))
    set.add(outcome)
  }
  /** Applies an op to `current` (acknowledged), or only records what it may have done (in flight at the kill). */
  const apply = (op: LoggedOp, acknowledged: boolean): void => {
    const effect = (key: string, outcome: Outcome): void => {
      note(key, outcome, since)
      if (acknowledged) current.set(key, outcome)
    }
    switch (op.t) {
      case 'set':
        versions.set(op.v, { tags: op.tags ?? [], expiresAt: op.ttl === undefined ? 0 : op.at + op.ttl })
        effect(op.k, op.v)
        if (acknowledged) tags.set(op.k, op.tags ?? [])
        break
      case 'del':
        effect(op.k, 'absent')
        break
      case 'tag':
        for (const key of KEYS) if (current.get(key) !== 'absent' && (tags.get(key) ?? []).includes(op.tag)) effect(key, 'absent')
        break
      case 'clear':
        for (const key of KEYS) effect(key, 'absent')
        break
      case 'cp':
      case 'reopen':
        if (acknowledged) {
          durable = new Map(current)
          since = new Map()
        }
        break
      case 'get':
        break
    }
  }
  for (const line of lines) {
    if (line.startsWith('op ')) pending = JSON.parse(line.slice(3)) as LoggedOp
    else if (line === 'ack' && pending !== undefined) {
      apply(pending, true)
      pending = undefined
    } else if (line.startsWith('evict ')) evicted.add(line.slice(6))
    else if (line.startsWith('violation ')) violations.push(line)
  }
  if (pending !== undefined) apply(pending, false)
  const outcomes = new Map<string, Set<Outcome>>()
  for (const key of KEYS) {
    const allowed = new Set<Outcome>([durable.get(key) ?? 'absent', ...(since.get(key) ?? [])])
    if (evicted.has(key)) allowed.add('absent')
    outcomes.set(key, allowed)
  }
  return { outcomes, violations }
}
