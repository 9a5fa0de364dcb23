import type { WriteOp } from '../../src/index.js'

/** A source of truth in memory that records every `write` call, and fails the next `failures` of them. */
export class RecordingSource<V> {
  readonly calls: WriteOp<V>[][] = []
  readonly data = new Map<string, V>()
  readonly signals: AbortSignal[] = []
  failures = 0
  /** Set: every call waits for it before answering. */
  gate: Promise<void> | undefined

  readonly write = async (ops: WriteOp<V>[], { signal }: { signal: AbortSignal }): Promise<void> => {
    this.calls.push(ops.map((op) => ({ ...op })))
    this.signals.push(signal)
    if (this.gate !== undefined) await this.gate
    if (this.failures > 0) {
      this.failures--
      throw new Error('source down')
    }
    for (const op of ops) {
      if (op.type === 'set') this.data.set(op.key, op.value)
      else this.data.delete(op.key)
    }
  }

  /** Each call's ops as `key=value` or `-key`. */
  get written(): string[][] {
    return this.calls.map((ops) => ops.map((op) => (op.type === 'set' ? `${op.key}=${String(op.value)}` : `-${op.key}`)))
  }
}

/** Lets promise callbacks and I/O callbacks run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
