import { describe, expect, it } from 'vitest'
import { CacheError } from '../../src/errors.js'
import { type Admission, type LoadsAhead, ReadThrough, type ReadThroughTiers } from '../../src/read-through/read-through.js'
import { deferred } from '../helpers/deferred.js'
import { VirtualClock } from '../helpers/virtual-time.js'

/** Tiers as a Map, recording what was stored and what was told. */
function fakeTiers() {
  const values = new Map<string, string>()
  const stored: [string, string, number, readonly string[] | undefined][] = []
  const told: string[] = []
  const tiers: ReadThroughTiers<string> = {
    get: (key) => values.get(key),
    getMany: (keys) => keys.map((key) => values.get(key)),
    set: (key, value, ttl, tags) => {
      values.set(key, value)
      stored.push([key, value, ttl, tags])
      return undefined
    },
    delete: (key) => ({ existed: values.delete(key), tombstone: undefined }),
    stale: () => undefined,
    clear: () => {
      values.clear()
      return undefined
    },
    notifier: {
      loaded: (key) => told.push(`loaded ${key}`),
      error: (error, key) => told.push(`error ${key} ${error.code}`),
      prefetchHit: (key) => told.push(`prefetch hit ${key}`),
    },
  }
  return { values, stored, told, tiers }
}

const admitAll: Admission<string> = { keyProblem: () => undefined, checkValue: () => undefined }

describe('ReadThrough', () => {
  it('calls the loader once for concurrent reads of a key every tier missed, and stores its value with the default ttl', async () => {
    const { stored, told, tiers } = fakeTiers()
    const gate = deferred<string>()
    let calls = 0
    const reads = new ReadThrough<string>({ tiers, admission: admitAll, loader: () => (calls++, gate.promise), scheduler: new VirtualClock() })
    const first = reads.read('k')
    const second = reads.read('k')
    expect(reads.isLoading('k')).toBe(true)
    gate.resolve('v')
    expect(await Promise.all([first, second])).toEqual(['v', 'v'])
    expect(calls).toBe(1)
    expect(stored).toEqual([['k', 'v', 0, undefined]])
    expect(told).toEqual(['loaded k'])
    expect(await reads.read('k')).toBe('v') // now from the tiers
    expect(calls).toBe(1)
  })

  it('returns a late load to its callers but does not store it when the key was written, deleted or cleared meanwhile', async () => {
    for (const write of ['set', 'delete', 'clear'] as const) {
      const { values, tiers } = fakeTiers()
      const gate = deferred<string>()
      const reads = new ReadThrough<string>({ tiers, admission: admitAll, loader: () => gate.promise, scheduler: new VirtualClock() })
      const read = reads.read('k')
      if (write === 'set') reads.set('k', 'newer', 0, undefined)
      else if (write === 'delete') reads.delete('k')
      else reads.clear()
      gate.resolve('older')
      expect(await read).toBe('older')
      expect(values.get('k')).toBe(write === 'set' ? 'newer' : undefined)
    }
  })

  it('refuses a key no value can be stored under before calling the loader', async () => {
    const { tiers } = fakeTiers()
    const refused = new CacheError('E_INVALID_KEY', 'no')
    let calls = 0
    const reads = new ReadThrough<string>({
      tiers,
      admission: { keyProblem: () => refused, checkValue: () => undefined },
      loader: () => (calls++, 'v'),
      scheduler: new VirtualClock(),
    })
    await expect(reads.read('k')).rejects.toBe(refused)
    expect(calls).toBe(0)
  })

  it('rejects a loaded or factory value that a write would refuse, storing nothing', async () => {
    const { stored, tiers } = fakeTiers()
    const admission: Admission<string> = {
      keyProblem: () => undefined,
      checkValue: () => {
        throw new CacheError('E_INVALID_VALUE', 'too large')
      },
    }
    const reads = new ReadThrough<string>({ tiers, admission, loader: () => 'v', scheduler: new VirtualClock() })
    await expect(reads.read('k')).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    await expect(reads.getOrSet('g', () => 'v', 0, undefined)).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(stored).toEqual([])
  })

  it('stores what getOrSet’s factory returns with its ttl and tags, and runs it once per key at a time', async () => {
    const { stored, tiers } = fakeTiers()
    const reads = new ReadThrough<string>({ tiers, admission: admitAll, loader: undefined, scheduler: new VirtualClock() })
    let calls = 0
    const factory = async (): Promise<string> => (calls++, 'made')
    expect(await Promise.all([reads.getOrSet('k', factory, 50, ['t']), reads.getOrSet('k', factory, 50, ['t'])])).toEqual(['made', 'made'])
    expect(calls).toBe(1)
    expect(stored).toEqual([['k', 'made', 50, ['t']]])
    expect(await reads.getOrSet('k', factory, 50, ['t'])).toBe('made')
    expect(calls).toBe(1)
  })

  it('hands over a value loaded ahead: checked, stored, told as a prefetch hit, without calling the loader', async () => {
    const { stored, told, tiers } = fakeTiers()
    const accessed: string[] = []
    const waiting = new Map([
      ['k', 'ahead'],
      ['bad', 'refused'],
    ])
    const admission: Admission<string> = {
      keyProblem: () => undefined,
      checkValue: (_key, value) => {
        if (value === 'refused') throw new CacheError('E_INVALID_VALUE', 'refused')
      },
    }
    const ahead: LoadsAhead<string> = {
      take: (key) => {
        const value = waiting.get(key)
        waiting.delete(key)
        return value
      },
      pending: () => undefined,
      accessed: (key) => accessed.push(key),
      written: () => undefined,
      cleared: () => undefined,
      close: () => undefined,
    }
    let calls = 0
    const reads = new ReadThrough<string>({ tiers, admission, loader: () => (calls++, 'loaded'), ahead, scheduler: new VirtualClock() })
    expect(await reads.read('k')).toBe('ahead')
    await expect(reads.read('bad')).rejects.toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(stored).toEqual([['k', 'ahead', 0, undefined]])
    expect(told).toEqual(['prefetch hit k'])
    expect(accessed).toEqual(['k', 'bad'])
    expect(calls).toBe(0)
  })

  it('rejects the callers of every running load with E_CLOSED at close, and starts none afterwards', async () => {
    const { tiers } = fakeTiers()
    let closedAhead = false
    const ahead: LoadsAhead<string> = {
      take: () => undefined,
      pending: () => undefined,
      accessed: () => undefined,
      written: () => undefined,
      cleared: () => undefined,
      close: () => (closedAhead = true),
    }
    const never = new Promise<string>(() => undefined)
    const reads = new ReadThrough<string>({ tiers, admission: admitAll, loader: () => never, ahead, scheduler: new VirtualClock() })
    const read = reads.read('k')
    const made = reads.getOrSet('g', () => never, 0, undefined)
    reads.close()
    await expect(read).rejects.toMatchObject({ code: 'E_CLOSED' })
    await expect(made).rejects.toMatchObject({ code: 'E_CLOSED' })
    await expect(reads.read('other')).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect(closedAhead).toBe(true)
  })
})
