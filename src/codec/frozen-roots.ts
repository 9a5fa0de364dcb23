/**
 * Roots `deepFreeze` froze through and through: their plain objects, arrays,
 * Maps, Sets and Errors are frozen, so the properties and elements of the
 * objects and arrays can no longer change.
 */
const frozenRoots = new WeakSet<object>()

export const isFrozenRoot = (value: object): boolean => frozenRoots.has(value)

export function addFrozenRoot(value: object): void {
  frozenRoots.add(value)
}
