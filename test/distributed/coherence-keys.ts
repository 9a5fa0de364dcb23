/** The key space the coherence workers share: keys in groups, one tag per group. */
export const KEY_COUNT = 50
const GROUP = 5
export const TAG_COUNT = KEY_COUNT / GROUP

export const keyName = (i: number): string => `k${i}`
export const tagName = (i: number): string => `g${i}`
export const tagOf = (key: string): string => tagName(Math.floor(Number(key.slice(1)) / GROUP))

/** Each tag's keys. */
export function tagKeys(): Record<string, string[]> {
  const keys: Record<string, string[]> = {}
  for (let i = 0; i < KEY_COUNT; i++) (keys[tagOf(keyName(i))] ??= []).push(keyName(i))
  return keys
}
