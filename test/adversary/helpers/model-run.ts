import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import type { SchedulerLike } from 'rxjs'
import { expect } from 'vitest'
import { type Cache, type CacheEvent, type CacheOptions, createCache } from '../../../src/index.js'
import { POLICY_NAMES, type PolicyName } from '../../../src/policies/index.js'
import { VirtualClock } from '../../helpers/virtual-time.js'
import { type Instant, Model, type Outcome } from './model.js'
import { type Stamped, stamped, versionOf } from './stamped.js'

export type Command =
  | { op: 'set'; key: string; ttl: number | undefined; tags: string[] | undefined; pad: number }
  | { op: 'get' | 'has' | 'delete'; key: string }
  | { op: 'deleteMany'; keys: string[] }
  | { op: 'deleteByTag'; tag: string }
  | { op: 'clear' | 'checkpoint' | 'settle' }
  | { op: 'reopen'; awaitReady: boolean }
  /** Without `settle`, the next commands run while the disk writes the step started are still in flight. */
  | { op: 'advance'; ms: number; settle: boolean }
  /** Writes and deletes issued in one go, without waiting between them: they must act as if one after the other. */
  | { op: 'burst'; writes: { key: string; del: boolean; pad: number }[] }
  /** With a disk that can fail: take all the room left on its filesystem, or give it back. */
  | { op: 'fill' | 'free' }

export interface Config {
  hot: { maxEntries: number; policy: PolicyName }
  warm: { maxBytes: number; policy: PolicyName } | false
  segmentBytes: number
  /** maxBytes in segments: 8 makes the disk evict, 256 never. */
  segments: number
  fsync: 'always' | 'interval' | 'never'
  compactionThreshold: number
}

/** Where time comes from: a virtual clock moved by `advance`, or the real one. */
export interface Clock {
  readonly scheduler: SchedulerLike | undefined
  now(): number
  advance(ms: number, settle?: boolean): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export const virtualClock = (): Clock => {
  const clock = new VirtualClock()
  return {
    scheduler: clock,
    now: () => clock.now(),
    advance: async (ms, settle = true) => {
      clock.advance(ms)
      if (settle) await sleep(1) // the disk writes the step started get a turn
    },
  }
}

export const realClock = (): Clock => ({ scheduler: undefined, now: () => Date.now(), advance: sleep })

const KEYS = Array.from({ length: 10 }, (_, i) => `k${i}`)
const TAGS = ['a', 'b', 'c']
const policy = fc.constantFrom(...POLICY_NAMES)

export const config: fc.Arbitrary<Config> = fc.record({
  hot: fc.record({ maxEntries: fc.integer({ min: 2, max: 8 }), policy }),
  warm: fc.oneof(fc.constant(false as const), fc.record({ maxBytes: fc.integer({ min: 64, max: 2048 }), policy })),
  segmentBytes: fc.constantFrom(512, 1024, 4096),
  segments: fc.constantFrom(8, 256),
  fsync: fc.constantFrom('always' as const, 'interval' as const, 'never' as const),
  compactionThreshold: fc.constantFrom(0.2, 0.5, 1),
})

/** Commands over ten keys; `ttls` and `steps` suit the clock (virtual ms, or real ms that cost real time). */
export function commands(ttls: fc.Arbitrary<number>, steps: fc.Arbitrary<number>, maxLength: number, keys = KEYS.length): fc.Arbitrary<Command[]> {
  const key = fc.constantFrom(...KEYS.slice(0, keys))
  const command: fc.Arbitrary<Command> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        key,
        ttl: fc.option(ttls, { nil: undefined, freq: 3 }),
        tags: fc.option(fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 2 }), { nil: undefined }),
        pad: fc.nat({ max: 1500 }),
      }),
    },
    { weight: 6, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'has' as const), key }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteMany' as const), keys: fc.uniqueArray(key, { maxLength: 4 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteByTag' as const), tag: fc.constantFrom(...TAGS) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: steps, settle: fc.boolean() }) },
    { weight: 2, arbitrary: fc.constantFrom({ op: 'checkpoint' as const }, { op: 'settle' as const }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('reopen' as const), awaitReady: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('burst' as const),
        writes: fc.array(fc.record({ key, del: fc.boolean(), pad: fc.nat({ max: 160 }) }), { minLength: 2, maxLength: 4 }),
      }),
    },
  )
  return fc.array(command, { maxLength, size: 'max' })
}

const optionsOf = (c: Config, dir: string, clock: Clock): CacheOptions<Stamped> => ({
  hot: c.hot,
  warm: c.warm,
  cold: {
    dir,
    segmentBytes: c.segmentBytes,
    maxBytes: c.segmentBytes * c.segments,
    fsync: c.fsync,
    fsyncInterval: 20,
    compactionThreshold: c.compactionThreshold,
  },
  ...(clock.scheduler === undefined ? {} : { scheduler: clock.scheduler }),
})

/** A pad that fits a segment with its key, tags and header, whatever the segment size. */
const padFor = (c: Config, pad: number): number => Math.min(pad, c.segmentBytes / 2 - 120)

/** A disk whose writes can be made to fail: its filesystem filled up, then freed. */
export interface Faults {
  /** Where store directories go (on the small filesystem). */
  root: string
  fill(): Promise<void>
  free(): Promise<void>
}

/** Commands with `fill` and `free` among them, for a disk that fails writes at random. */
export function faultyCommands(base: fc.Arbitrary<Command[]>): fc.Arbitrary<Command[]> {
  const fault = fc.constantFrom({ op: 'fill' as const }, { op: 'free' as const })
  return fc.tuple(base, fc.array(fc.tuple(fc.nat(), fault), { maxLength: 8 })).map(([cmds, faults]) => {
    // A delete in a burst that a failing disk rejects is not modelled: bursts stay out of these runs.
    const out = cmds.filter((cmd) => cmd.op !== 'burst')
    for (const [at, f] of faults) out.splice(at % (out.length + 1), 0, f)
    return out
  })
}

/** Settles a call that a failing disk may reject: whether it resolved. */
const outcome = <T>(call: Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> =>
  call.then(
    (value) => ({ ok: true as const, value }),
    () => ({ ok: false as const }),
  )

/**
 * Runs the commands against a cache with a cold tier and the model, across
 * close-and-reopen: every read must be one the model allows (never an older
 * value, never a wrong one), every count within the model's range, and no
 * error reported. With `faults`, the disk fails while filled: then entries
 * may go missing and calls may reject, but no read may be older or wrong.
 */
export async function runAgainstModel(c: Config, cmds: readonly Command[], clock: Clock, faults?: Faults): Promise<void> {
  const dir = await mkdtemp(join(faults?.root ?? tmpdir(), 'strata-adversary-model-'))
  const model = new Model()
  model.lossy = faults !== undefined
  const errors: string[] = []
  let version = 0
  const open = (): Cache<Stamped> => {
    const cache = createCache<Stamped>(optionsOf(c, dir, clock))
    cache.events$.subscribe((e: CacheEvent) => {
      if (e.type === 'evict') model.reportedGone(e.key)
      if (e.type === 'error') errors.push(e.error.message)
    })
    return cache
  }
  let cache = open()
  await cache.ready
  const instant = async <T>(call: () => Promise<T>): Promise<[T, Instant]> => {
    const from = clock.now()
    const result = await call()
    return [result, { from, to: clock.now() }]
  }
  /**
   * A delete or clear the disk did not take resolves all the same while the disk is degraded: what it owes the disk
   * may never land if the process ends degraded (docs/cold-tier.md, When the disk fails), as a refused one.
   */
  const tookIt = (call: { ok: boolean }): boolean => call.ok && cache.stats().tiers.cold.state !== 'degraded'
  const read = async (key: string, where: string): Promise<void> => {
    const [value, at] = await instant(() => cache.get(key))
    const found: Outcome = value === undefined ? 'absent' : versionOf(key, value)
    const allowed = model.allowed(key, at)
    expect(allowed.has(found), `${where}: get(${key}) = ${found}, allowed ${[...allowed]}`).toBe(true)
    model.observed(key, found)
  }
  try {
    for (const [i, cmd] of cmds.entries()) {
      const where = `#${i} ${JSON.stringify(cmd)}`
      switch (cmd.op) {
        case 'set': {
          const v = ++version
          const from = clock.now()
          await cache.set(cmd.key, stamped(cmd.key, v, padFor(c, cmd.pad)), {
            ...(cmd.ttl === undefined ? {} : { ttl: cmd.ttl }),
            ...(cmd.tags === undefined ? {} : { tags: cmd.tags }),
          })
          const to = clock.now()
          const ttl = cmd.ttl
          model.set(cmd.key, {
            version: v,
            expiresFrom: ttl === undefined ? 0 : from + ttl,
            expiresTo: ttl === undefined ? 0 : to + ttl,
            tags: cmd.tags ?? [],
          })
          break
        }
        case 'get':
          await read(cmd.key, where)
          break
        case 'burst': {
          const calls = cmd.writes.map(async (w, j) => {
            if (w.del) {
              const t = clock.now()
              const [min, max] = model.countRange([w.key], { from: t, to: t + 1 })
              const deleted = cache.delete(w.key)
              model.remove(w.key)
              const found = Number(await deleted)
              expect(found >= min && found <= max, `${where} write ${j}: delete(${w.key}) = ${found === 1}, model [${min}, ${max}]`).toBe(true)
              return
            }
            const v = ++version
            const written = cache.set(w.key, stamped(w.key, v, padFor(c, w.pad)))
            model.set(w.key, { version: v, expiresFrom: 0, expiresTo: 0, tags: [] })
            await written
          })
          await Promise.all(calls)
          break
        }
        case 'has': {
          const [has, at] = await instant(() => cache.has(cmd.key))
          const allowed = model.allowed(cmd.key, at)
          expect(allowed.has('absent') ? true : has, `${where}: has = ${has}, allowed ${[...allowed]}`).toBe(true)
          if (!has) {
            expect(allowed.has('absent'), `${where}: has = false, allowed ${[...allowed]}`).toBe(true)
            model.observed(cmd.key, 'absent')
          } else {
            expect(allowed.size > 1 || !allowed.has('absent'), `${where}: has = true, allowed ${[...allowed]}`).toBe(true)
          }
          break
        }
        case 'delete': {
          if (faults !== undefined) {
            // A rejected delete may or may not have reached the disk: the key is the model's or absent (lossy).
            if (tookIt(await outcome(cache.delete(cmd.key)))) model.remove(cmd.key)
            break
          }
          const [deleted, at] = await instant(() => cache.delete(cmd.key))
          const [min, max] = model.countRange([cmd.key], at)
          expect(Number(deleted), `${where}: delete = ${deleted}`).toBeGreaterThanOrEqual(min)
          expect(Number(deleted), `${where}: delete = ${deleted}`).toBeLessThanOrEqual(max)
          model.remove(cmd.key)
          break
        }
        case 'deleteMany': {
          if (faults !== undefined) {
            if (tookIt(await outcome(cache.deleteMany(cmd.keys)))) for (const key of cmd.keys) model.remove(key)
            break
          }
          const [count, at] = await instant(() => cache.deleteMany(cmd.keys))
          const [min, max] = model.countRange(cmd.keys, at)
          expect(count, `${where}: deleteMany counted ${count}, model [${min}, ${max}]`).toBeGreaterThanOrEqual(min)
          expect(count, `${where}: deleteMany counted ${count}, model [${min}, ${max}]`).toBeLessThanOrEqual(max)
          for (const key of cmd.keys) model.remove(key)
          break
        }
        case 'deleteByTag': {
          const doomed = model.keysOfTag(cmd.tag)
          if (faults !== undefined) {
            if (tookIt(await outcome(cache.deleteByTag(cmd.tag)))) for (const key of doomed) model.remove(key)
            break
          }
          const [count, at] = await instant(() => cache.deleteByTag(cmd.tag))
          const [min, max] = model.countRange(doomed, at)
          expect(count, `${where}: deleteByTag counted ${count}, model [${min}, ${max}] of ${doomed}`).toBeGreaterThanOrEqual(min)
          expect(count, `${where}: deleteByTag counted ${count}, model [${min}, ${max}] of ${doomed}`).toBeLessThanOrEqual(max)
          for (const key of doomed) model.remove(key)
          break
        }
        case 'clear':
          if (faults === undefined) await cache.clear()
          else if (!tookIt(await outcome(cache.clear()))) {
            model.clearRefused()
            break
          }
          model.clear()
          break
        case 'checkpoint':
          if (faults === undefined) await cache.checkpoint()
          else await outcome(cache.checkpoint())
          break
        case 'fill':
          await faults?.fill()
          break
        case 'free':
          await faults?.free()
          break
        case 'settle':
          await clock.advance(10)
          await sleep(10)
          break
        case 'advance':
          await clock.advance(cmd.ms, cmd.settle)
          break
        case 'reopen':
          // A restart after close() must give exactly the model.
          if (faults === undefined) {
            await cache.close()
            cache = open()
            if (cmd.awaitReady) await cache.ready
            break
          }
          await outcome(cache.close())
          cache = open()
          // A full disk may refuse the opening itself (E_IO): then open again with room.
          if (!(await outcome(cache.ready)).ok) {
            await outcome(cache.close())
            await faults.free()
            cache = open()
            await cache.ready
          }
          break
      }
    }
    if (faults !== undefined) await faults.free()
    for (const key of KEYS) await read(key, 'at the end')
    await cache.close()
    cache = open()
    for (const key of KEYS) await read(key, 'reopened at the end')
    if (faults === undefined) expect(errors, 'no error reported').toEqual([])
    else
      expect(
        errors.filter((m) => !m.startsWith('E_IO')),
        'no error but E_IO reported',
      ).toEqual([])
  } finally {
    await cache.close().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}
