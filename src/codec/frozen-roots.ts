/**
 * Roots `deepFreeze` froze through and through: their plain objects, arrays,
 * Maps, Sets and Errors are frozen, so the properties and elements of the
 * objects and arrays can no longer change. The value says whether the root is
 * a frozen tree: plain objects and arrays only, each reached once (nothing
 * shared, no cycle), so that an encoding needs no table of references.
 */
const frozenRoots = new WeakMap<object, boolean>()

export const isFrozenRoot = (value: object): boolean => frozenRoots.has(value)

/**
 * Whether `value` is a root `deepFreeze` froze and found to be a tree, as
 * it read the value's properties then (as every memory of a frozen root
 * does, it takes a getter's value as read once).
 */
export const isFrozenTree = (value: unknown): boolean => typeof value === 'object' && value !== null && frozenRoots.get(value) === true

export function addFrozenRoot(value: object, tree: boolean): void {
  frozenRoots.set(value, tree)
}
