import { join } from 'node:path'
import { checkKeys, invalid, resolveInteger } from './option-rules.js'

/** One change for the source: a key's new value, or its deletion. */
export type WriteOp<V> = { type: 'set'; key: string; value: V } | { type: 'delete'; key: string }

/**
 * The source of truth behind the cache, and how writes reach it.
 *
 * - 'through': `set`/`delete` resolve once `write` has succeeded and the
 *   cache holds the new state; when `write` fails they reject `E_WRITER` (the
 *   error as `cause`) and the key's cached value is dropped.
 * - 'back': `set`/`delete` resolve once the op is in the cache and fsynced in
 *   the journal; the ops are written later, coalesced by key, in batches, one
 *   batch at a time, retried with backoff. Delivery is at least once: `write`
 *   must be idempotent.
 */
export interface Writer<V> {
  /** Writes the ops, in order; a key appears at most once per call in write-back. Rejects when the source did not take them. */
  write(ops: WriteOp<V>[], context: { signal: AbortSignal }): Promise<void>
  /** Default 'through'. */
  mode?: WriteMode
  /** Most ops in one `write` call. Default 100. */
  batchSize?: number
  /** Ms a dirty entry may wait before it is written (write-back). Default 1,000. */
  flushInterval?: number
  /** Most dirty keys at once (write-back). Default 10,000. */
  maxDirty?: number
  /** Past `maxDirty`: a write waits for room ('wait', default) or rejects `E_BACKPRESSURE` with nothing changed ('reject'). */
  onFull?: 'wait' | 'reject'
  /** Tries of a batch and the jittered exponential backoff between them (write-back). */
  retry?: WriterRetry
  /**
   * The write-back journal's directory. Default: `journal` inside `cold.dir`
   * when a cold tier exists; without one (or `false`), dirty entries live in
   * memory only and a crash loses them.
   */
  journal?: string | false
}

export type WriteMode = 'through' | 'back'

export interface WriterRetry {
  /** Tries of one batch, the first included. Default 3. */
  attempts?: number
  /** Ms before the second try; doubles at each try. Default 100. */
  baseDelay?: number
  /** Most ms between two tries. Default 5,000. */
  maxDelay?: number
}

export interface ResolvedWriter<V> {
  write: Writer<V>['write']
  mode: WriteMode
  batchSize: number
  flushInterval: number
  maxDirty: number
  onFull: 'wait' | 'reject'
  retry: Required<WriterRetry>
  journal: string | false
}

const KNOWN_WRITER = ['write', 'mode', 'batchSize', 'flushInterval', 'maxDirty', 'onFull', 'retry', 'journal']
const KNOWN_RETRY = ['attempts', 'baseDelay', 'maxDelay']

/** Checks the `writer` option and fills in its defaults; the journal defaults to `journal` in `cold.dir`. */
export function resolveWriter<V>(writer: Writer<V> | undefined, cold: false | { dir: string } | undefined, values: unknown): ResolvedWriter<V> | undefined {
  if (writer === undefined) return undefined
  if (typeof writer !== 'object' || writer === null) throw invalid('writer', 'must be an object')
  checkKeys(writer, KNOWN_WRITER, 'writer.')
  if (typeof writer.write !== 'function') throw invalid('writer.write', 'must be a function (ops, { signal }) => Promise<void>')
  const mode = writer.mode ?? 'through'
  if (mode !== 'through' && mode !== 'back') throw invalid('writer.mode', `must be 'through' or 'back'`)
  const onFull = writer.onFull ?? 'wait'
  if (onFull !== 'wait' && onFull !== 'reject') throw invalid('writer.onFull', `must be 'wait' or 'reject'`)
  const retry = writer.retry ?? {}
  if (typeof retry !== 'object' || retry === null) throw invalid('writer.retry', 'must be an object')
  checkKeys(retry, KNOWN_RETRY, 'writer.retry.')
  const baseDelay = resolveInteger('writer.retry.baseDelay', retry.baseDelay, 100)
  const maxDelay = resolveInteger('writer.retry.maxDelay', retry.maxDelay, Math.max(5000, baseDelay))
  if (maxDelay < baseDelay) throw invalid('writer.retry.maxDelay', 'must be at least writer.retry.baseDelay')
  return {
    write: writer.write,
    mode,
    batchSize: resolveInteger('writer.batchSize', writer.batchSize, 100),
    flushInterval: resolveInteger('writer.flushInterval', writer.flushInterval, 1000),
    maxDirty: resolveInteger('writer.maxDirty', writer.maxDirty, 10_000),
    onFull,
    retry: { attempts: resolveInteger('writer.retry.attempts', retry.attempts, 3), baseDelay, maxDelay },
    journal: resolveJournal(writer.journal, mode, cold, values),
  }
}

/** The journal's directory: given, or `journal` in the cold tier's directory; false for none (write-through needs none). */
function resolveJournal(journal: unknown, mode: WriteMode, cold: false | { dir: string } | undefined, values: unknown): string | false {
  if (journal !== undefined && journal !== false && (typeof journal !== 'string' || journal === '')) {
    throw invalid('writer.journal', 'must be a directory path or false')
  }
  if (mode === 'through' || journal === false) return false
  if (typeof journal === 'string') {
    if (values === 'any') throw invalid('writer.journal', `needs values 'data': the journal holds values as bytes`)
    return journal
  }
  return cold !== undefined && cold !== false ? join(cold.dir, 'journal') : false
}
