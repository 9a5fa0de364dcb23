import { describe, expect, it } from 'vitest'
import { createCache } from '../../../src/index.js'
import { tempDirs } from '../../helpers/temp-dirs.js'
import { VirtualClock } from '../../helpers/virtual-time.js'

const makeDir = tempDirs('strata-stale-restart-')

/** A clock already at `at`, as a process restarted later would read it. */
function clockAt(at: number): VirtualClock {
  const clock = new VirtualClock()
  clock.advance(at)
  return clock
}

describe('stale values and the disk', () => {
  it('an entry written with a window goes to disk with its expiry: after a restart it is fresh until then, and never served stale', async () => {
    const dir = await makeDir()
    const options = { cold: { dir }, ttl: 100, grace: 10_000, staleWhileRevalidate: 10_000 } as const
    const first = createCache<string>({ ...options, scheduler: clockAt(0) })
    await first.set('k', 'v')
    await first.close()

    const beforeExpiry = createCache<string>({ ...options, scheduler: clockAt(99), loader: () => 'loaded' })
    expect(await beforeExpiry.get('k')).toBe('v')
    await beforeExpiry.close()

    let loads = 0
    const afterExpiry = createCache<string>({
      ...options,
      scheduler: clockAt(200),
      loader: () => {
        loads++
        throw new Error('down')
      },
    })
    expect(await afterExpiry.has('k')).toBe(false)
    await expect(afterExpiry.get('k')).rejects.toMatchObject({ code: 'E_LOADER' })
    expect(loads).toBe(1)
    await afterExpiry.close()
  })

  it('a value written while a read waited for the disk is current: returned without a load, not taken for a stale one', async () => {
    const dir = await makeDir()
    let loads = 0
    const cache = createCache<string>({
      cold: { dir },
      scheduler: clockAt(5_000),
      grace: 10_000,
      loader: () => {
        loads++
        return 'loaded'
      },
    })
    await cache.ready
    const read = cache.get('k') // asks the disk
    await cache.set('k', 'written') // no ttl: never expires
    expect(await read).toBe('written')
    expect(loads).toBe(0)
    await cache.close()
  })
})
