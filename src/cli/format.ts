/** Plain-text output helpers: aligned tables and byte counts, no colours (output is often piped). */

export type Align = 'left' | 'right'

/** Columns padded to their widest cell; the first column left-aligned, the rest as `align` says. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)))
  const side = (c: number): Align => align?.[c] ?? (c === 0 ? 'left' : 'right')
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (side(c) === 'left' ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 -> "1.5 KiB"; exact below 1 KiB. */
export function humanBytes(n: number): string {
  let v = n
  let u = 0
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[u]}`
}

/** Share of `part` in `whole` as "12.5%", "-" when whole is 0. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`
