/**
 * Turns values into bytes and back for the tiers that hold bytes (warm, cold).
 * `decode(encode(v))` must give back a value of the same type and content.
 */
export interface Codec {
  readonly name: string
  encode(value: unknown): Uint8Array
  decode(bytes: Uint8Array): unknown
  /**
   * Optional fast check, run at `set` while a byte tier is configured: the
   * reason the value cannot round-trip, or undefined when it can. A codec
   * without it (or `check`) is checked by encoding the value once.
   */
  reject?(value: unknown): string | undefined
  /**
   * Optional, preferred to `reject`: the same check, and the value's size as
   * the codec counts it for `maxValueBytes`. Undefined when the value
   * round-trips and its size is at most `maxBytes`; else the reason it cannot
   * round-trip, or its size (over `maxBytes`). A codec without it has the
   * length of its encoding counted, the value encoded once at `set`.
   */
  check?(value: unknown, maxBytes: number): string | number | undefined
}
