import type { ProductRecord } from '../records.js'

/** A ~1 KiB record with the revision it was written at: instances tell an old value from a new one by it. */
export type Revision = ProductRecord & { rev: number }
