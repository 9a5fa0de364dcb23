export { type ColdReadOptions, ColdStore } from './cold-store.js'
export type { ColdHit, ColdPut, ColdStoreStats } from './types.js'
export type { ColdStoreOptions, FsyncMode } from './options.js'
export type { ColdLeaveListener, ColdLeaveReason } from './cold-index.js'
