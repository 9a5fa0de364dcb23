/**
 * What one walk over a value finds out for the default codec (msgpackr in
 * structured-clone mode): why it would not come back as it went in, and how
 * large its encoding can be.
 */
import { isFrozenRoot } from './frozen-roots.js'
import { isWellFormed } from './well-formed.js'
import { byteLength, ERROR_PROTOTYPES, objectProblem } from './value-kinds.js'

export interface ValueSurvey {
  /** Why the value would not come back as it was, and where; undefined when it would. */
  problem: string | undefined
  /** An upper bound of its msgpack bytes. */
  maxPackedBytes: number
  /** The values it holds, itself included: elements, properties, Map keys and values, Set items. */
  values: number
  /** The distinct objects among them (arrays, Maps, Dates, byte arrays...). */
  objects: number
}

/**
 * msgpackr encodes and decodes by recursion, one to three calls per level
 * (Sets and Errors nest deepest): past about 700 levels of them it overflows
 * the stack. 256 leaves room for the caller's own frames.
 */
export const MAX_DEPTH = 256

/**
 * Why the value would not come back from the default codec as it went in, or
 * undefined when it would. Cheaper than encoding it.
 */
export const roundTripProblem = (value: unknown): string | undefined => surveyValue(value).problem

// The last survey and its root: a write checks its value and then its fit in
// the tiers, and the fit check reads the bound from here rather than walk the
// value again. One slot, emptied when taken.
let lastRoot: unknown
let lastSurvey: ValueSurvey | undefined

/**
 * Walks the value once, in the order msgpackr encodes it, remembering the
 * objects seen: shared objects and cycles (which msgpackr keeps) are walked
 * once, so the walk is linear; it keeps its own stack, so no depth overflows
 * it. Throws what the value throws (a getter, a revoked Proxy).
 */
export function surveyValue(root: unknown): ValueSurvey {
  const survey = frozenSurvey(root)
  lastRoot = root
  lastSurvey = survey
  return survey
}

/**
 * The surveys of roots `deepFreeze` had frozen when they were surveyed, and
 * whose quick walk met only plain objects and arrays (no Date, which a freeze
 * leaves changeable): what the walk found holds for good. As `deepFreeze`'s
 * own memory of its roots, this takes a getter's value as read once.
 */
const frozenSurveys = new WeakMap<object, ValueSurvey>()

function frozenSurvey(root: unknown): ValueSurvey {
  // A value not frozen (most new values) costs one native check more, not a lookup.
  const frozen = typeof root === 'object' && root !== null && Object.isFrozen(root)
  if (frozen) {
    const known = frozenSurveys.get(root)
    if (known !== undefined) return known
  }
  const walk = quickSurvey(root)
  if (walk === undefined) return fullSurvey(root)
  if (frozen && !walk.changeable && isFrozenRoot(root)) frozenSurveys.set(root, walk.survey)
  return walk.survey
}

/** The survey just made of `value`, taken once; undefined when the last survey was of something else. */
export function takeSurvey(value: unknown): ValueSurvey | undefined {
  const survey = lastSurvey
  if (survey === undefined || lastRoot !== value) return undefined
  lastRoot = undefined
  lastSurvey = undefined
  return survey
}

function fullSurvey(root: unknown): ValueSurvey {
  const survey: ValueSurvey = { problem: undefined, maxPackedBytes: 0, values: 0, objects: 0 }
  let problem: Found | undefined
  const seen = new Set<object>()
  // Objects still to walk, with their depth; a container's children are pushed last-first so that they pop first-first.
  const stack: object[] = []
  const depths: number[] = []
  const children: object[] = []

  /** A child of `container` (undefined for the root): leaves are checked at once, objects queued. */
  const visit = (value: unknown, container: object | undefined, how: How, at: unknown, index: number): boolean => {
    survey.values++
    switch (typeof value) {
      case 'string':
        survey.maxPackedBytes += stringBound(value)
        if (!isWellFormed(value)) problem = { container, how, at, index, what: LONE_SURROGATE }
        return problem === undefined
      case 'number':
        survey.maxPackedBytes += 9
        return true
      case 'boolean':
      case 'undefined':
        survey.maxPackedBytes += 3
        return true
      case 'bigint':
        survey.maxPackedBytes += 16 + value.toString(16).length
        return true
      case 'function':
        problem = { container, how, at, index, what: 'a function, which cannot be encoded' }
        return false
      case 'symbol':
        problem = { container, how, at, index, what: 'a symbol, which cannot be encoded' }
        return false
    }
    if (value === null) {
      survey.maxPackedBytes += 1
      return true
    }
    if (seen.has(value as object)) {
      // A pointer, and an id on the first copy.
      survey.maxPackedBytes += 16
    } else {
      children.push(value as object)
    }
    return true
  }

  const key = (name: string, container: object): boolean => {
    survey.maxPackedBytes += stringBound(name)
    if (!isWellFormed(name)) problem = { container, how: How.Property, at: name, index: 0, what: 'a property name holding a lone surrogate' }
    else if (name === '__proto__')
      problem = { container, how: How.Property, at: name, index: 0, what: `a property named '__proto__', which comes back renamed '__proto_'` }
    return problem === undefined
  }

  /** Moves the children gathered since `from` onto the stack, first child on top. */
  const queue = (from: number, depth: number): void => {
    for (let i = children.length - 1; i >= from; i--) {
      stack.push(children[i])
      depths.push(depth)
    }
    children.length = from
  }

  if (!visit(root, undefined, How.Self, undefined, 0)) return finish(survey, root, problem)
  queue(0, 0)
  while (stack.length > 0 && problem === undefined) {
    const object = stack.pop() as object
    const depth = depths.pop() as number
    if (seen.has(object)) {
      survey.maxPackedBytes += 16
      continue
    }
    seen.add(object)
    survey.objects++
    survey.maxPackedBytes += 16
    if (depth > MAX_DEPTH) {
      problem = {
        container: object,
        how: How.Self,
        at: undefined,
        index: 0,
        what: `a value nested more than ${MAX_DEPTH} levels deep, which the codec cannot encode`,
      }
      break
    }
    const prototype: unknown = Object.getPrototypeOf(object)
    const found = objectProblem(object, prototype)
    if (found !== undefined) {
      problem = { container: object, how: How.Self, at: undefined, index: 0, what: found }
      break
    }
    if (prototype === Object.prototype) {
      for (const name in object) {
        if (!key(name, object)) break
        if (!visit((object as Record<string, unknown>)[name], object, How.Property, name, 0)) break
      }
    } else if (prototype === Array.prototype) {
      const array = object as unknown[]
      for (let i = 0; i < array.length; i++) {
        const element = array[i]
        if (element === undefined && !(i in array)) {
          problem = { container: object, how: How.Index, at: undefined, index: i, what: 'a hole in a sparse array, which comes back as undefined' }
          break
        }
        if (!visit(element, object, How.Index, undefined, i)) break
      }
    } else if (prototype === Map.prototype) {
      let i = 0
      for (const [k, v] of object as Map<unknown, unknown>) {
        if (!visit(k, object, How.MapKey, undefined, i) || !visit(v, object, How.MapValue, k, i)) break
        i++
      }
    } else if (prototype === Set.prototype) {
      let i = 0
      for (const item of object as Set<unknown>) {
        if (!visit(item, object, How.SetItem, undefined, i++)) break
      }
    } else if (ERROR_PROTOTYPES.has(prototype)) {
      const error = object as Error
      if (visit(error.name, object, How.Property, 'name', 0) && visit(error.message, object, How.Property, 'message', 0)) {
        if (visit(error.cause, object, How.Property, 'cause', 0) && error instanceof AggregateError) visit(error.errors, object, How.Property, 'errors', 0)
      }
    } else if (prototype === RegExp.prototype) {
      const regExp = object as RegExp
      if (visit(regExp.source, object, How.Property, 'source', 0)) visit(regExp.flags, object, How.Property, 'flags', 0)
    } else {
      // Date, byte arrays, ArrayBuffer, DataView: no values inside.
      survey.maxPackedBytes += byteLength(object)
    }
    queue(0, depth + 1)
  }
  return finish(survey, root, problem)
}

interface Found {
  /** The object holding what is wrong (or wrong itself); undefined for the root. */
  container: object | undefined
  /** The step from the container to what is wrong: how, and at which name, key or index. */
  how: How
  at: unknown
  index: number
  what: string
}

const LONE_SURROGATE = 'a string holding a lone surrogate, which UTF-8 turns into U+FFFD'
// How a value was reached from its container; the step's text is written only for a refusal.
const How = { Self: 0, Property: 1, Index: 2, MapKey: 3, MapValue: 4, SetItem: 5 } as const
type How = (typeof How)[keyof typeof How]

function stepText(found: Found): string {
  switch (found.how) {
    case How.Self:
      return ''
    case How.Property:
      return propertyStep(found.at as string)
    case How.Index:
      return `[${found.index}]`
    case How.MapKey:
      return `.keys()[${found.index}]`
    case How.MapValue:
      return `.get(${label(found.at, found.index)})`
    case How.SetItem:
      return `.values()[${found.index}]`
  }
}

// UTF-8 takes at most 3 bytes per UTF-16 unit; a long string is worth measuring exactly (natively).
const stringBound = (value: string): number => 5 + (value.length <= 64 ? 3 * value.length : Buffer.byteLength(value))

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
const propertyStep = (name: string): string => (IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`)

function label(key: unknown, index: number): string {
  if (typeof key === 'string') return JSON.stringify(key)
  if (typeof key === 'number' || typeof key === 'boolean') return String(key)
  if (typeof key === 'bigint') return `${key}n`
  return `<key ${index}>`
}

const MAX_PATH = 120

/** Fills in the problem's message, with the path to it: found again by a second walk, paid for only by a refusal. */
function finish(survey: ValueSurvey, root: unknown, found: Found | undefined): ValueSurvey {
  if (found !== undefined) {
    const at = found.container === undefined ? 'value' : pathTo(root, found.container) + stepText(found)
    survey.problem = `${at.length > MAX_PATH ? `${at.slice(0, MAX_PATH)}…` : at}: ${found.what}`
  }
  return survey
}

/** The path from the root to `target`, as `value.a[2].get("k")`: the first found, walking as the survey walks. */
function pathTo(root: unknown, target: object): string {
  const paths = new Map<unknown, string>([[root, 'value']])
  const stack: unknown[] = [root]
  while (stack.length > 0) {
    const object = stack.pop()
    const path = paths.get(object) as string
    if (object === target) return path
    if (typeof object !== 'object' || object === null) continue
    const next: [unknown, string][] = []
    stepsOf(object, (child, step) => next.push([child, step]))
    for (let i = next.length - 1; i >= 0; i--) {
      const [child, step] = next[i]
      if (typeof child === 'object' && child !== null && !paths.has(child)) {
        paths.set(child, path + step)
        stack.push(child)
      }
    }
  }
  return 'value'
}

function stepsOf(object: object, each: (child: unknown, step: string) => void): void {
  const prototype = Object.getPrototypeOf(object)
  if (Array.isArray(object)) object.forEach((element, i) => each(element, `[${i}]`))
  else if (object instanceof Map) [...object].forEach(([k, v], i) => (each(k, `.keys()[${i}]`), each(v, `.get(${label(k, i)})`)))
  else if (object instanceof Set) [...object].forEach((item, i) => each(item, `.values()[${i}]`))
  else if (object instanceof Error) {
    each(object.cause, '.cause')
    if (object instanceof AggregateError) each(object.errors, '.errors')
  } else if (prototype === Object.prototype || prototype === null) {
    for (const name in object) each((object as Record<string, unknown>)[name], propertyStep(name))
  }
}

/** Distinct objects the quick walk takes; a value with more goes to the full walk. */
const QUICK_OBJECTS = 32
const QUICK_DEPTH = 32

interface QuickWalk {
  survey: ValueSurvey
  /** The objects walked so far: few, so a scan finds a shared one as fast as a Set would. */
  objects: object[]
  /** Whether it met an object a freeze leaves changeable (a Date). */
  changeable: boolean
}

/**
 * The survey of the values most caches hold (a few plain objects and arrays
 * of strings, numbers, booleans, nulls and Dates, nothing shared twice over),
 * with the same figures as the full walk, by plain recursion; undefined for
 * anything else, even the slightest doubt, which the full walk then takes.
 */
function quickSurvey(root: unknown): QuickWalk | undefined {
  const walk: QuickWalk = { survey: { problem: undefined, maxPackedBytes: 0, values: 0, objects: 0 }, objects: [], changeable: false }
  return quickValue(walk, root, 0) ? walk : undefined
}

function quickValue(walk: QuickWalk, value: unknown, depth: number): boolean {
  const survey = walk.survey
  survey.values++
  switch (typeof value) {
    case 'string':
      survey.maxPackedBytes += stringBound(value)
      return isWellFormed(value)
    case 'number':
      survey.maxPackedBytes += 9
      return true
    case 'boolean':
    case 'undefined':
      survey.maxPackedBytes += 3
      return true
    case 'object':
      break
    default:
      return false
  }
  if (value === null) {
    survey.maxPackedBytes += 1
    return true
  }
  const objects = walk.objects
  if (objects.includes(value)) {
    survey.maxPackedBytes += 16
    return true
  }
  if (objects.length >= QUICK_OBJECTS || depth >= QUICK_DEPTH) return false
  objects.push(value)
  survey.objects++
  survey.maxPackedBytes += 16
  const prototype: unknown = Object.getPrototypeOf(value)
  if (prototype === Date.prototype) {
    walk.changeable = true
    return Object.keys(value).length === 0 && Object.getOwnPropertySymbols(value).length === 0
  }
  if (prototype === Array.prototype) {
    const array = value as unknown[]
    if (Object.getOwnPropertySymbols(array).length !== 0) return false
    for (let i = 0; i < array.length; i++) {
      if (!(i in array) || !quickValue(walk, array[i], depth + 1)) return false
    }
    return true
  }
  if (prototype !== Object.prototype || Object.getOwnPropertySymbols(value).length !== 0) return false
  const record = value as Record<string, unknown>
  for (const name in record) {
    survey.maxPackedBytes += stringBound(name)
    if (name === '__proto__' || !isWellFormed(name) || !quickValue(walk, record[name], depth + 1)) return false
  }
  return true
}
