import { CacheError } from '../errors.js'

/** The checks every option group shares: each throws `E_INVALID_OPTIONS` naming the option. */
export const invalid = (option: string, rule: string): CacheError => new CacheError('E_INVALID_OPTIONS', `option '${option}' ${rule}`)

export const isPositive = (n: unknown): n is number => typeof n === 'number' && n > 0 && !Number.isNaN(n)
export const isPositiveInteger = (n: unknown): n is number => isPositive(n) && (Number.isInteger(n) || n === Infinity)

export function checkKeys(object: object, known: string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw invalid(prefix + key, 'is not a known option')
  }
}

/** A positive, finite integer; `fallback` when absent. */
export function resolveInteger(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (!isPositiveInteger(value) || value === Infinity) throw invalid(option, 'must be a positive integer')
  return value
}
