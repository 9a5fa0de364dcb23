/**
 * Why a value would not come back from msgpackr's structured-clone mode as it
 * went in, or undefined when it would. A walk over the value, cheaper than
 * encoding it, run at `set` so that a bad value is refused before it is stored.
 */
export function roundTripProblem(value: unknown): string | undefined {
  return problemAt(value, 0)
}

// Deeper than this, the value may be cyclic: the caller falls back to encoding it.
export const MAX_WALK_DEPTH = 64
export const TOO_DEEP = 'too deep to check'

const plainPrototypes = new Set<unknown>([Object.prototype, null])
const clonablePrototypes = new Set<unknown>([
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
])

function problemAt(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return undefined
    case 'function':
      return 'a function cannot be encoded'
    case 'symbol':
      return 'a symbol cannot be encoded'
  }
  if (value === null) return undefined
  if (depth >= MAX_WALK_DEPTH) return TOO_DEEP
  const object = value as object
  if (ArrayBuffer.isView(object)) return undefined
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const problem = problemAt(object[i], depth + 1)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  if (object instanceof Map) {
    for (const [k, v] of object) {
      const problem = problemAt(k, depth + 1) ?? problemAt(v, depth + 1)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  if (object instanceof Set) {
    for (const v of object) {
      const problem = problemAt(v, depth + 1)
      if (problem !== undefined) return problem
    }
    return undefined
  }
  const prototype = Object.getPrototypeOf(object)
  if (clonablePrototypes.has(prototype) || object instanceof Error) return undefined
  if (!plainPrototypes.has(prototype)) {
    const name = (prototype?.constructor as { name?: string } | undefined)?.name ?? 'a class'
    return `an instance of ${name} would come back as a plain object`
  }
  for (const key in object) {
    const problem = problemAt((object as Record<string, unknown>)[key], depth + 1)
    if (problem !== undefined) return problem
  }
  return undefined
}
