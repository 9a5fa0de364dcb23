import { Subject } from 'rxjs'
import { type FlushInput, type FlushOutput, flush } from '../../streams/flush.js'
import { asCacheError, CacheError } from '../errors.js'
import type { WriteOp } from '../options/writer-options.js'
import { yieldToLoop } from '../tiers/cold/yield.js'
import { type DirtyEntry, DirtySet } from './dirty-set.js'
import { Journal } from './journal.js'
import { encodeRecord } from './journal-record.js'
import type { Replayed } from './journal-replay.js'
import { writeObservable } from './source-write.js'
import type { CacheWriter, WriterParts, WrittenEntry } from './writer-parts.js'

interface Waiter {
  resolve: () => void
  reject: (error: CacheError) => void
}

const NO_BYTES = new Uint8Array(0)
/** Replayed ops applied between two yields to the event loop. */
const REPLAY_SLICE = 256

/**
 * Write-back: an op is reserved room (`maxDirty`), appended to the journal
 * and fsynced (group commit), and only then applied to the cache and marked
 * dirty; the call resolves then. So a call that rejects (`E_BACKPRESSURE`,
 * `E_IO`) changed nothing, and no value is visible before it is durable. The
 * flush flow (`streams/flush.ts`) writes the dirty ops to the source; a
 * written op leaves the dirty set unless a later op of its key replaced it,
 * and releases its journal record. Without a journal the same holds in
 * memory only.
 */
export class WriteBack<V> implements CacheWriter<V> {
  readonly opened: Promise<void>
  readonly #parts: WriterParts<V>
  readonly #dirty = new DirtySet<V>()
  readonly #input = new Subject<FlushInput<WriteOp<V>>>()
  readonly #reservations = new Map<number, Waiter>()
  readonly #flushes = new Map<number, Waiter>()
  readonly #flowDone: Promise<void>
  readonly #flow
  #journal: Journal | undefined
  #nextId = 0
  #seq = 0
  /** Writes past their reservation and not yet applied: close waits for them. */
  #writing = 0
  #idle: (() => void) | undefined
  #closed: Promise<void> | undefined

  constructor(parts: WriterParts<V>) {
    this.#parts = parts
    const { options, scheduler } = parts
    const flow = flush(this.#input, writeObservable(options.write, parts.breaker), { ...options, retry: options.retry }, scheduler)
    let done!: () => void
    this.#flowDone = new Promise((resolve) => (done = resolve))
    this.#flow = flow.subscribe({ next: (outcome) => this.#outcome(outcome), complete: done, error: done })
    this.opened = this.#open()
    this.opened.catch(() => undefined)
  }

  async set(key: string, value: V, ttl: number, tags: readonly string[] | undefined): Promise<void> {
    await this.#write({ type: 'set', key, value }, this.#expiry(ttl), () => this.#parts.cache.set(key, value, ttl, tags))
  }

  delete(key: string): Promise<boolean> {
    return this.#write({ type: 'delete', key }, 0, () => {
      const prior = this.#dirty.get(key)
      const dirtyValue = prior !== undefined && prior.op.type === 'set' && !this.#expired(prior)
      const existed = this.#parts.cache.delete(key)
      return existed instanceof Promise ? existed.then((found) => found || dirtyValue) : existed || dirtyValue
    })
  }

  async setMany(entries: readonly WrittenEntry<V>[]): Promise<void> {
    await Promise.all(entries.map((e) => this.set(e.key, e.value, e.ttl, e.tags)))
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    return (await Promise.all(keys.map((key) => this.delete(key)))).filter(Boolean).length
  }

  isDirty(key: string): boolean {
    return this.#dirty.get(key) !== undefined
  }

  /**
   * For a read that every tier missed: undefined when `key` is clean; its
   * dirty value (undefined for a delete) while it lives; once its time to
   * live has passed, a Promise that settles when its write has ended (true:
   * written, read through; false: it failed, a miss).
   */
  find(key: string): { value: V | undefined } | Promise<boolean> | undefined {
    const entry = this.#dirty.get(key)
    if (entry === undefined) return undefined
    // After close nothing will write it: an expired value is then a miss.
    if (this.#expired(entry)) return this.#closed !== undefined ? { value: undefined } : this.#dirty.settled(key).then((settled) => settled === 'written')
    return { value: entry.op.type === 'set' ? entry.op.value : undefined }
  }

  /** Settles once `key`'s dirty op has been written (true) or failed every try (false); at once (true) for a clean key or after close. */
  settled(key: string): Promise<boolean> {
    if (this.#dirty.get(key) === undefined || this.#closed !== undefined) return Promise.resolve(true)
    return this.#dirty.settled(key).then((settled) => settled === 'written')
  }

  async flush(): Promise<void> {
    await this.opened
    if (this.#closed !== undefined) throw new CacheError('E_CLOSED', 'the cache is closed')
    return new Promise((resolve, reject) => {
      const id = this.#nextId++
      this.#flushes.set(id, { resolve, reject })
      this.#input.next({ type: 'flush', id })
    })
  }

  close(timeout: number): Promise<void> {
    this.#closed ??= this.#close(timeout)
    return this.#closed
  }

  async #close(timeout: number): Promise<void> {
    const closed = new CacheError('E_CLOSED', 'the cache is closed')
    for (const waiter of this.#reservations.values()) waiter.reject(closed)
    this.#reservations.clear()
    try {
      await this.opened
    } catch {
      this.#flow.unsubscribe()
      return
    }
    // Writes whose journal append is under way are applied, and handed to the flow, before it closes.
    if (this.#writing > 0) await new Promise<void>((resolve) => (this.#idle = resolve))
    this.#input.complete()
    let timer: { unsubscribe(): void } | undefined
    await Promise.race([this.#flowDone, new Promise<void>((resolve) => (timer = this.#parts.scheduler.schedule(resolve, timeout)))])
    timer?.unsubscribe()
    // Past the timeout: the write in flight is aborted; what is dirty stays in the journal for the next open.
    this.#flow.unsubscribe()
    for (const waiter of this.#flushes.values()) waiter.reject(closed)
    this.#flushes.clear()
    this.#dirty.releaseAll()
    await this.#journal?.close()
  }

  async #write<R>(op: WriteOp<V>, expiresAt: number, apply: () => R): Promise<Awaited<R>> {
    await this.opened
    await this.#reserve()
    this.#writing++
    try {
      const seq = ++this.#seq
      const segment = await this.#append(op, seq, expiresAt)
      const result = apply()
      this.#mark({ op, seq, segment, expiresAt }, true)
      return await result
    } finally {
      if (--this.#writing === 0) this.#idle?.()
    }
  }

  /** Durable in the journal (the segment's id), or -1 without one; rejects `E_IO` (the reservation given back). */
  async #append(op: WriteOp<V>, seq: number, expiresAt: number): Promise<number> {
    const journal = this.#journal
    if (journal === undefined) return -1
    try {
      const value = op.type === 'set' ? this.#parts.codec.encode(op.value) : NO_BYTES
      return await journal.append(encodeRecord({ seq, type: op.type, key: op.key, expiresAt, value }))
    } catch (error) {
      this.#input.next({ type: 'release' })
      throw asCacheError(error, 'E_IO', `cannot write the journal: ${(error as Error).message}`)
    }
  }

  #mark(entry: DirtyEntry<V>, reserved: boolean): void {
    const replaced = this.#dirty.mark(entry)
    if (replaced !== undefined && replaced.segment >= 0) this.#journal?.release(replaced.segment)
    this.#parts.notifier.counters.dirty = this.#dirty.size
    this.#input.next({ type: 'op', op: entry.op, seq: entry.seq, reserved })
  }

  #reserve(): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(new CacheError('E_CLOSED', 'the cache is closed'))
    return new Promise((resolve, reject) => {
      const id = this.#nextId++
      this.#reservations.set(id, { resolve, reject })
      this.#input.next({ type: 'reserve', id })
    })
  }

  #outcome(outcome: FlushOutput<WriteOp<V>>): void {
    const { notifier } = this.#parts
    switch (outcome.type) {
      case 'written': {
        notifier.flushed(outcome.batch.length, outcome.ms)
        for (const { op, seq } of outcome.batch) {
          const entry = this.#dirty.written(op.key, seq)
          if (entry !== undefined && entry.segment >= 0) this.#journal?.release(entry.segment)
        }
        notifier.counters.dirty = this.#dirty.size
        return
      }
      case 'coalesced':
        notifier.counters.coalesced++
        return
      case 'retry':
        notifier.counters.writeRetries++
        return
      case 'failed': {
        const keys = outcome.batch.map((d) => d.op.key)
        notifier.writeFailed(keys, writerError(keys.length, outcome.error))
        for (const key of keys) this.#dirty.failed(key)
        return
      }
      case 'room':
        return this.#answer(this.#reservations, outcome.id)
      case 'full':
        return this.#answer(
          this.#reservations,
          outcome.id,
          new CacheError('E_BACKPRESSURE', `writer.maxDirty (${this.#parts.options.maxDirty}) keys are dirty`),
        )
      case 'flushed':
        return this.#answer(this.#flushes, outcome.id)
      case 'flush-failed':
        return this.#answer(this.#flushes, outcome.id, writerError(undefined, outcome.error))
    }
  }

  #answer(waiters: Map<number, Waiter>, id: number, error?: CacheError): void {
    const waiter = waiters.get(id)
    if (waiter === undefined) return
    waiters.delete(id)
    if (error === undefined) waiter.resolve()
    else waiter.reject(error)
  }

  /** Opens the journal once the tiers have, and replays it: each key's last op, in seq order, into the cache and the dirty set. */
  async #open(): Promise<void> {
    const { options, notifier } = this.#parts
    // A tier that cannot open degrades and memory serves: the journal opens (or fails, E_IO) on its own.
    await this.#parts.tiersReady.catch(() => undefined)
    if (options.journal === false) return
    const { journal, replayed } = await Journal.open(options.journal, (error) => notifier.error(error))
    this.#journal = journal
    this.#seq = replayed.maxSeq
    let n = 0
    for (const one of replayed.last) {
      this.#replay(one)
      if (++n % REPLAY_SLICE === 0) await yieldToLoop()
    }
  }

  #replay({ record, segment }: Replayed): void {
    const { codec, cache, scheduler, notifier } = this.#parts
    const { key, expiresAt, seq } = record
    let op: WriteOp<V>
    try {
      op = record.type === 'set' ? { type: 'set', key, value: codec.decode(record.value) as V } : { type: 'delete', key }
    } catch (cause) {
      notifier.error(new CacheError('E_CORRUPT', `the journal's op of '${key}' cannot be decoded: it is not replayed`, { cause }), key)
      this.#journal?.release(segment)
      return
    }
    try {
      // A replayed set is visible to reads, unless its time to live has passed; a replayed delete drops what the tiers hold.
      const left = expiresAt === 0 ? Infinity : expiresAt - scheduler.now()
      const applied = op.type === 'delete' ? cache.delete(key) : left > 0 ? cache.set(key, op.value, left, undefined) : undefined
      if (applied instanceof Promise) applied.catch((error: unknown) => notifier.error(asCacheError(error, 'E_IO', String(error)), key))
    } catch (error) {
      notifier.error(asCacheError(error, 'E_INVALID_VALUE', String(error)), key)
    }
    this.#mark({ op, seq, segment, expiresAt }, false)
  }

  #expiry(ttl: number): number {
    const effective = ttl === 0 ? this.#parts.defaultTtl : ttl
    return effective === 0 || effective === Infinity ? 0 : this.#parts.scheduler.now() + effective
  }

  #expired(entry: DirtyEntry<V>): boolean {
    return entry.expiresAt !== 0 && entry.expiresAt <= this.#parts.scheduler.now()
  }
}

const writerError = (count: number | undefined, cause: unknown): CacheError =>
  new CacheError(
    'E_WRITER',
    `the writer failed to write ${count === undefined ? 'the dirty ops' : `${count} ops`}: ${(cause as Error)?.message ?? String(cause)}`,
    {
      cause,
    },
  )
