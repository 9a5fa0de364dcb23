/**
 * Lets pending I/O callbacks, timers and other callers run between slices of
 * long work (recovery, compaction, clear). setImmediate is used for this only:
 * the store owns no timers; time comes from the caller's `now()`.
 */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
