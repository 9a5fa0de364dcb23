/**
 * Zipf-distributed ranks: rank k (1-based) is drawn with probability
 * proportional to 1 / k^skew, the shape of real request logs where a few
 * keys take most of the traffic. Sampling is a binary search over the
 * cumulative weights, built once.
 */
export function zipf(n: number, skew: number, random: () => number): () => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let k = 1; k <= n; k++) cdf[k - 1] = total += 1 / k ** skew
  for (let i = 0; i < n; i++) cdf[i] /= total
  return () => {
    const u = random()
    let low = 0
    let high = n - 1
    while (low < high) {
      const mid = (low + high) >>> 1
      if (cdf[mid] < u) low = mid + 1
      else high = mid
    }
    return low
  }
}

/** A seeded shuffle of 0..n-1, so the popular ranks land on scattered key ids. */
export function permutation(n: number, random: () => number): Uint32Array {
  const ids = new Uint32Array(n)
  for (let i = 0; i < n; i++) ids[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = ids[i]
    ids[i] = ids[j]
    ids[j] = t
  }
  return ids
}
