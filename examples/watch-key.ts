/**
 * `watch(key)` and `events$` in a few lines: a watcher sees each new value
 * of one key (not moves between tiers, not repeats), events$ sees everything
 * the cache does. Both complete when the cache closes, so this script exits
 * by itself.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createCache } from 'strata-cache'

interface Price {
  sku: string
  cents: number
}

const cache = createCache<Price>({ hot: { maxEntries: 100 } })

cache.events$.subscribe({
  next: (event) => console.log(`  event  ${event.type}${'key' in event && event.key ? ` ${event.key}` : ''}`),
  complete: () => console.log('  events$ complete'),
})
cache.watch('price:42').subscribe({
  next: (price) => console.log(`  watch  price:42 = ${price === undefined ? 'absent' : `${price.cents} cents`}`),
  complete: () => console.log('  watch  complete'),
})

const price = { sku: '42', cents: 1999 }
await cache.set('price:42', price)
await cache.set('price:42', price) // the same value again: events$ sees a set, the watcher nothing
await cache.set('price:7', { sku: '7', cents: 500 }) // another key: the watcher stays quiet
await cache.set('price:42', { sku: '42', cents: 1799 })
await cache.get('price:42')
// A short time to live, on the real clock: the watcher hears of the expiry when it happens.
await cache.set('price:42', { sku: '42', cents: 1499 }, { ttl: 50 })
await sleep(80)
await cache.close()
