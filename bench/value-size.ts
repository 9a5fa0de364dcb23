/**
 * How long the largest values `maxValueBytes` accepts at its default take to
 * encode and decode with the default codec, shape by shape: the default is
 * meant to keep each under 10 ms. Also the cost of the check at `set`.
 *
 *   npx tsx bench/value-size.ts
 */
import { createDefaultCodec } from '../src/codec/default-codec.js'
import { DEFAULT_MAX_VALUE_BYTES } from '../src/options/options.js'

const codec = createDefaultCodec()
const limit = DEFAULT_MAX_VALUE_BYTES
const check = codec.check as (value: unknown, maxBytes: number) => string | number | undefined

/** The longest array of `make(i)` the check accepts at the limit (a binary search on its length). */
function largestArray(make: (i: number) => unknown): unknown[] {
  let low = 1
  let high = limit
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (
      check(
        Array.from({ length: mid }, (_, i) => make(i)),
        limit,
      ) === undefined
    )
      low = mid
    else high = mid - 1
  }
  return Array.from({ length: low }, (_, i) => make(i))
}

/** The longest `make(n)` the check accepts at the limit. */
function largest(make: (n: number) => unknown): unknown {
  let low = 1
  let high = 4 * limit
  while (low < high) {
    const mid = Math.ceil((low + high) / 2)
    if (check(make(mid), limit) === undefined) low = mid
    else high = mid - 1
  }
  return make(low)
}

function bestMs(work: () => unknown, runs = 21): number {
  let best = Infinity
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint()
    work()
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6)
  }
  return best
}

const shapes: [string, () => unknown][] = [
  ['empty objects', () => largestArray(() => ({}))],
  ['empty arrays', () => largestArray(() => [])],
  ['empty Maps', () => largestArray(() => new Map())],
  ['empty Sets', () => largestArray(() => new Set())],
  ['Dates', () => largestArray((i) => new Date(i * 1000))],
  ['{ id, name } records', () => largestArray((i) => ({ id: i, name: `n${i}` }))],
  ['nulls', () => largestArray(() => null)],
  ['small integers', () => largestArray((i) => i & 127)],
  ['doubles', () => largestArray((i) => i + 0.5)],
  ['short strings', () => largestArray((i) => `s${i & 7}`)],
  ['one ASCII string', () => largest((n) => 'x'.repeat(n))],
  ['one 3-byte string', () => largest((n) => '€'.repeat(n))],
  ['one Buffer', () => largest((n) => Buffer.alloc(n, 7))],
]

console.log(`maxValueBytes ${limit}: the largest accepted value of each shape`)
console.log('shape                   count    packed   check ms  encode ms  decode ms')
for (const [name, make] of shapes) {
  const value = make()
  const count = Array.isArray(value) ? value.length : 1
  const bytes = codec.encode(value)
  const packed = codec.check?.(value, 0)
  const checkMs = bestMs(() => check(value, limit))
  const encodeMs = bestMs(() => codec.encode(value))
  const decodeMs = bestMs(() => codec.decode(bytes))
  console.log(
    `${name.padEnd(22)} ${String(count).padStart(7)} ${String(packed).padStart(9)} ${checkMs.toFixed(2).padStart(10)} ${encodeMs.toFixed(2).padStart(10)} ${decodeMs.toFixed(2).padStart(10)}`,
  )
}
