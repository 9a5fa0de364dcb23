import { CacheError } from '../errors.js'
import type { WriteOp } from '../options/writer-options.js'
import { BreakerOpenError } from '../guards/circuit-breaker.js'
import { callWrite } from './source-write.js'
import type { CacheWriter, WriterParts, WrittenEntry } from './writer-parts.js'

/**
 * Write-through: an op reaches the source first, then the cache; the call
 * resolves when both hold it. A failed `write` rejects `E_WRITER` and drops
 * the keys from every tier, since the source's state is then unknown. The
 * ops of one key reach the source one call at a time, in call order.
 */
export class WriteThrough<V> implements CacheWriter<V> {
  readonly opened = Promise.resolve()
  readonly #parts: WriterParts<V>
  /** Each key's last call under way: the next call of the key waits for it. */
  readonly #tails = new Map<string, Promise<unknown>>()
  readonly #controllers = new Set<AbortController>()

  constructor(parts: WriterParts<V>) {
    this.#parts = parts
  }

  set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): Promise<void> {
    return this.#run([key], [{ type: 'set', key, value }], () => this.#parts.cache.set(key, value, ttl, tags))
  }

  delete(key: string): Promise<boolean> {
    return this.#run([key], [{ type: 'delete', key }], () => this.#parts.cache.delete(key))
  }

  /** One `write` call per `batchSize` entries. */
  async setMany(entries: readonly WrittenEntry<V>[]): Promise<void> {
    const { cache, options } = this.#parts
    const calls: Promise<unknown>[] = []
    for (let at = 0; at < entries.length; at += options.batchSize) {
      const chunk = entries.slice(at, at + options.batchSize)
      const ops = chunk.map((e): WriteOp<V> => ({ type: 'set', key: e.key, value: e.value }))
      calls.push(this.#run(keysOf(ops), ops, () => Promise.all(chunk.map((e) => cache.set(e.key, e.value, e.ttl, e.tags)))))
    }
    await Promise.all(calls)
  }

  /** One `write` call per `batchSize` keys. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const { cache, options } = this.#parts
    const calls: Promise<boolean[]>[] = []
    for (let at = 0; at < keys.length; at += options.batchSize) {
      const chunk = keys.slice(at, at + options.batchSize)
      const ops = chunk.map((key): WriteOp<V> => ({ type: 'delete', key }))
      calls.push(this.#run(chunk, ops, () => Promise.all(chunk.map((key) => cache.delete(key)))))
    }
    return (await Promise.all(calls)).flat().filter(Boolean).length
  }

  isDirty(): boolean {
    return false
  }

  /** Nothing waits in write-through. */
  flush(): Promise<void> {
    return Promise.resolve()
  }

  /** Waits for the calls under way, for at most `timeout` ms; then aborts those left (they reject `E_WRITER`). */
  async close(timeout: number): Promise<void> {
    const running = Promise.allSettled([...this.#tails.values()])
    let timer: { unsubscribe(): void } | undefined
    await Promise.race([running, new Promise<void>((resolve) => (timer = this.#parts.scheduler.schedule(resolve, timeout)))])
    timer?.unsubscribe()
    for (const controller of this.#controllers) controller.abort()
  }

  #run<R>(keys: readonly string[], ops: WriteOp<V>[], apply: () => R): Promise<Awaited<R>> {
    const before: Promise<unknown>[] = []
    for (const key of keys) {
      const tail = this.#tails.get(key)
      if (tail !== undefined) before.push(tail)
    }
    const call = this.#call(before, keys, ops, apply)
    for (const key of keys) this.#tails.set(key, call)
    const done = (): void => {
      for (const key of keys) if (this.#tails.get(key) === call) this.#tails.delete(key)
    }
    call.then(done, done)
    return call
  }

  async #call<R>(before: Promise<unknown>[], keys: readonly string[], ops: WriteOp<V>[], apply: () => R): Promise<Awaited<R>> {
    if (before.length > 0) await Promise.allSettled(before)
    const { options, notifier, cache } = this.#parts
    const controller = new AbortController()
    this.#controllers.add(controller)
    try {
      await callWrite(options.write, ops, controller.signal, this.#parts.breaker)
    } catch (cause) {
      const error = new CacheError('E_WRITER', `the writer failed to write ${describe(keys)}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
      // Refused by an open breaker: the source was not called, so its state, and the cache's, are as they were.
      if (cause instanceof BreakerOpenError) {
        notifier.writeFailed([...keys], error)
        throw error
      }
      // The source may or may not hold the ops: no tier may keep a value it might contradict.
      await Promise.all(keys.map((key) => cache.delete(key)))
      notifier.writeFailed([...keys], error)
      throw error
    } finally {
      this.#controllers.delete(controller)
    }
    notifier.counters.written += ops.length
    return await apply()
  }
}

const keysOf = <V>(ops: WriteOp<V>[]): string[] => [...new Set(ops.map((op) => op.key))]

const describe = (keys: readonly string[]): string => (keys.length === 1 ? `'${keys[0]}'` : `${keys.length} keys`)
