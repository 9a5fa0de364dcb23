/** `String.prototype.isWellFormed` (Node 20+), which this project's ES2022 library does not declare. */
interface WellFormedCheck {
  isWellFormed(): boolean
}

/** Whether the string holds no lone surrogate, which UTF-8 (and so msgpack and the disk) cannot store. */
export const isWellFormed = (value: string): boolean => (value as unknown as WellFormedCheck).isWellFormed()
