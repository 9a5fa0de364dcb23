export { ColdStore } from './cold-store.js'
export type { ColdStoreOptions } from './options.js'
