/**
 * The shared harness: alternate two sides over many rounds and report the
 * ratio of their median ns/op. The machine is shared and noisy, so a single
 * long run of each side would measure the neighbours as much as the code;
 * interleaving A/B then B/A lets both sides see the same noise.
 */

/** Runs `ops` operations of one side; returns something derived from the results so nothing is dead code. */
export type Batch = (ops: number) => unknown

export interface CompareOptions {
  /** Measured rounds; each runs A and B once, in alternating order. */
  rounds?: number
  /** Unmeasured rounds first, so both sides are JIT-compiled before timing. */
  warmup?: number
  /** Operations per batch: enough that one batch takes ~10-50 ms. */
  ops: number
}

export interface Comparison {
  /** Median ns per operation of each side. */
  a: number
  b: number
  /** a / b, the ratio of the medians. */
  ratio: number
  /** The 25th and 75th percentile of the per-round ratios: how noisy the rounds were. */
  spread: [number, number]
  rounds: number
}

export const median = (values: number[]): number => quantile(values, 0.5)

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low)
}

// biome-ignore lint/correctness/noUnusedVariables: written, never read, so the JIT must keep what made the value.
let sink: unknown
/** Keeps a value alive across the measurement so the JIT cannot drop the work that made it. */
export const consume = (value: unknown): void => {
  sink = value
}

async function time(batch: Batch, ops: number): Promise<number> {
  const start = process.hrtime.bigint()
  consume(await batch(ops))
  return Number(process.hrtime.bigint() - start) / ops
}

/** Alternates A and B (A B, B A, A B, …) and compares the medians of their ns/op. */
export async function compare(a: Batch, b: Batch, options: CompareOptions): Promise<Comparison> {
  const { rounds = 21, warmup = 5, ops } = options
  for (let i = 0; i < warmup; i++) {
    await time(a, ops)
    await time(b, ops)
  }
  const as: number[] = []
  const bs: number[] = []
  for (let i = 0; i < rounds; i++) {
    // Collect garbage between rounds, not inside them, when --expose-gc allows.
    globalThis.gc?.()
    if (i % 2 === 0) {
      as.push(await time(a, ops))
      bs.push(await time(b, ops))
    } else {
      bs.push(await time(b, ops))
      as.push(await time(a, ops))
    }
  }
  const perRound = as.map((x, i) => x / bs[i])
  return {
    a: median(as),
    b: median(bs),
    ratio: median(as) / median(bs),
    spread: [quantile(perRound, 0.25), quantile(perRound, 0.75)],
    rounds,
  }
}

/**
 * One side that does its own setup, timing and teardown and returns its
 * figure (ns/op, ms, …): for runs that cannot be a batch of `ops`, such as
 * writing a fresh store into a new directory every round.
 */
export type Measured = () => Promise<number>

/** Alternates A and B (A B, B A, …) like `compare`, over sides that measure themselves. */
export async function compareMeasured(
  a: Measured,
  b: Measured,
  options: { rounds: number; warmup?: number },
): Promise<Comparison & { as: number[]; bs: number[] }> {
  const { rounds, warmup = 1 } = options
  for (let i = 0; i < warmup; i++) {
    await a()
    await b()
  }
  const as: number[] = []
  const bs: number[] = []
  for (let i = 0; i < rounds; i++) {
    globalThis.gc?.()
    if (i % 2 === 0) {
      as.push(await a())
      bs.push(await b())
    } else {
      bs.push(await b())
      as.push(await a())
    }
  }
  const perRound = as.map((x, i) => x / bs[i])
  return {
    a: median(as),
    b: median(bs),
    ratio: median(as) / median(bs),
    spread: [quantile(perRound, 0.25), quantile(perRound, 0.75)],
    rounds,
    as,
    bs,
  }
}

/** One row of the results table. */
export interface Result {
  id: string
  title: string
  /** strata-cache's figure and the baseline's, in `unit`. */
  strata: number
  baseline: number
  baselineName: string
  unit: 'ns/op' | 'µs/op' | 'B/entry' | 'ms' | 'ratio' | 'calls/key'
  ratio: number
  spread?: [number, number]
  /** Highest acceptable ratio; absent for rows that only inform. */
  target?: number
  notes: string[]
}

export const RESULT_PREFIX = '@@bench-result '

/** Hands a result to `run.ts` (one JSON line on stdout) and shows it to a person running the file alone. */
export function report(result: Result): void {
  process.stdout.write(`${RESULT_PREFIX + JSON.stringify(result)}\n`)
}

/** Rounds from `--rounds N`, for quick runs. */
export function roundsFromArgs(fallback: number): number {
  const at = process.argv.indexOf('--rounds')
  const n = at === -1 ? NaN : Number(process.argv[at + 1])
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/** `count` keys shared by both sides: the same strings, so both hash the same. */
export const makeKeys = (count: number, prefix = 'key:'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`)

/** An access order over `count` keys, power-of-two long so a batch can wrap with a mask. */
export function accessOrder(count: number, length: number, random: () => number): Uint32Array {
  const order = new Uint32Array(length)
  for (let i = 0; i < length; i++) order[i] = Math.floor(random() * count)
  return order
}

export type Reader = (key: string) => Promise<unknown> | unknown

/**
 * `ops` reads of keys in `order` (power-of-two long, see `accessOrder`) by
 * `workers` loops, each awaiting its read before the next: one driver for
 * every side of a read comparison, only `read` differs. Throws unless every
 * read found its value.
 */
export function readBatch(read: Reader, workers: number, keys: readonly string[], order: Uint32Array): Batch {
  const mask = order.length - 1
  let cursor = 0
  return async (ops: number) => {
    let found = 0
    let left = ops
    const worker = async () => {
      while (left > 0) {
        left--
        if ((await read(keys[order[cursor++ & mask]])) !== undefined) found++
      }
    }
    await Promise.all(Array.from({ length: workers }, worker))
    if (found !== ops) throw new Error(`found ${found} of ${ops}`)
    return found
  }
}
