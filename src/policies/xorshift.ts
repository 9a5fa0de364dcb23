/**
 * The next state of Marsaglia's xorshift32 (13, 17, 5), as an int32; never 0
 * from a non-zero state. The policies' seeded, allocation-free randomness.
 */
export function xorshift32(state: number): number {
  let x = state
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  return x
}
