import { WriteBack } from './write-back.js'
import { WriteThrough } from './write-through.js'
import type { WriterParts } from './writer-parts.js'

/** The writer of the `writer` option's mode. */
export function createWriter<V>(parts: WriterParts<V>): WriteBack<V> | WriteThrough<V> {
  return parts.options.mode === 'back' ? new WriteBack(parts) : new WriteThrough(parts)
}
