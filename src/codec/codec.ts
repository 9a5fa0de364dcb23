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
   * without it is checked by encoding the value once.
   */
  reject?(value: unknown): string | undefined
}
