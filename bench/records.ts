/**
 * Seeded data for benchmarks and the demo: the same seed gives the same keys
 * and values on every run and on both sides of a comparison.
 */

/** mulberry32: a tiny, fast 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface OrderLine {
  sku: string
  qty: number
  price: number
}

/** A product record of about 1 KiB as JSON: strings, numbers, a nested object and array. */
export interface ProductRecord {
  id: number
  sku: string
  name: string
  description: string
  price: number
  stock: number
  rating: number
  active: boolean
  tags: string[]
  vendor: { name: string; city: string; zip: string; token: string }
  history: OrderLine[]
  updatedAt: number
}

// Words repeat across records as they would in a real catalogue; ids, tokens
// and numbers do not. That leaves LZ4 something to find, but not much.
const WORDS = (
  'steel oak linen wireless compact ergonomic vintage organic premium modular ' +
  'portable durable waterproof classic slim heavy quiet smart solar foldable ' +
  'kitchen garden office outdoor travel studio kids sport winter summer'
).split(' ')
const CITIES = ['Lyon', 'Porto', 'Gdansk', 'Osaka', 'Austin', 'Leeds', 'Turin', 'Quito']

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)]
const words = (random: () => number, n: number): string => Array.from({ length: n }, () => pick(random, WORDS)).join(' ')
const hex = (random: () => number, n: number): string => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('')

/** The record for `i`: a pure function of `i` and `seed`, different for every `i`. */
export function makeRecord(i: number, seed = 1): ProductRecord {
  const random = prng(seed * 1_000_003 + i)
  const history = Array.from({ length: 8 + Math.floor(random() * 5) }, () => ({
    sku: `SKU-${hex(random, 8)}`,
    qty: 1 + Math.floor(random() * 20),
    price: Math.round(random() * 100_000) / 100,
  }))
  return {
    id: i,
    sku: `SKU-${hex(random, 8)}`,
    name: words(random, 3),
    description: words(random, 24 + Math.floor(random() * 10)),
    price: Math.round(random() * 100_000) / 100,
    stock: Math.floor(random() * 10_000),
    rating: Math.round(random() * 50) / 10,
    active: random() < 0.9,
    tags: Array.from({ length: 3 }, () => pick(random, WORDS)),
    vendor: { name: words(random, 2), city: pick(random, CITIES), zip: hex(random, 5), token: hex(random, 32) },
    history,
    updatedAt: 1_700_000_000_000 + Math.floor(random() * 1e10),
  }
}
