import { randomUUID } from 'node:crypto'
import type { RedisClient } from './redis-client.js'
import { KnownGeneration } from './known-generation.js'
import { type CommandCall, command } from './redis-command.js'
import { ALL_SCRIPTS, CLEAR, DELETE, DELETE_TAG, EPOCH, FILL, GET, SET } from './scripts.js'

export interface RemoteStoreOptions {
  /** Every key the store touches starts with it. */
  prefix: string
  /** Ms a command may take before it rejects with E_REMOTE. */
  commandTimeout: number
  /** Ms the invalidation stream keeps a message (trimmed as writes come, by entry time). */
  retention: number
  /** Ms a deleted key remembers its delete's version, so that a load begun before it is refused. */
  tombstoneTtl: number
}

/** A value as the remote tier holds it. */
export interface RemoteValue {
  bytes: Uint8Array
  version: number
  /** Ms left to live; 0: no expiry. */
  ttl: number
  tags: readonly string[]
}

export interface RemoteEntry {
  key: string
  bytes: Uint8Array
  /** Ms to live; 0: no expiry. */
  ttl: number
  tags: readonly string[]
}

type RawValue = [Buffer, number, number, Buffer] | null
/** A record's `HMGET d v x t`, read without a script. */
type RawRecord = [Buffer | null, Buffer | null, Buffer | null, Buffer | null]

/**
 * How far the share of values read that have an expiry may rise before reads
 * go to the script first: a plain read of such a value must ask the script
 * for its time left (the server's clock), a second round trip, so past this
 * share the plain read would cost more than it saves.
 */
const MOST_EXPIRING = 0.25
/** The weight of each value read in that share (a moving average over about the last 32). */
const SHARE_STEP = 1 / 32

/** Keys reclaimed per SCAN slice after a clear: one call's work stays small whatever the key count. */
const RECLAIM_SLICE = 256

/**
 * The remote tier's storage in one Redis (not Redis Cluster: see
 * LuaScript): values, versions and tags, and for every write its
 * invalidation on the stream, atomically. `origin` is the writer's
 * instance id, as the stream's messages carry it.
 */
export class RemoteStore {
  readonly #client: RedisClient
  readonly #options: RemoteStoreOptions
  readonly #call: CommandCall
  readonly #binary: CommandCall
  readonly #generation: KnownGeneration
  /** The share of values read lately that have an expiry. */
  #expiring = 0

  /** `generation`: what the bus tells of clears (by default, unknown for good: every read runs the script). */
  constructor(client: RedisClient, options: RemoteStoreOptions, generation = new KnownGeneration()) {
    this.#client = client
    this.#options = options
    this.#call = { timeout: options.commandTimeout }
    this.#binary = { timeout: options.commandTimeout, buffers: true }
    this.#generation = generation
  }

  /** Loads the scripts and, on a Redis that has none yet, sets its epoch. */
  async open(): Promise<void> {
    await Promise.all(ALL_SCRIPTS.map((script) => script.load(this.#client, this.#call)))
    await this.epoch()
  }

  /**
   * The Redis data's identity (see coherence/invalidation.ts): the first
   * caller to find none sets it, so a Redis that lost its data gets a new one.
   */
  epoch(): Promise<string> {
    return EPOCH.run<string>(this.#client, [this.#options.prefix, randomUUID()], this.#call)
  }

  /**
   * The key's value. Under a known generation, one plain `HMGET` of its
   * record (a third of the script's time on the server); the script when
   * the generation is unknown, when the record has an expiry (its time left
   * is the server clock's to tell), or when most values read lately have one.
   */
  async get(key: string): Promise<RemoteValue | undefined> {
    const generation = this.#generation.current
    if (generation !== undefined && this.#expiring < MOST_EXPIRING) {
      const [bytes, version, expiry, tags] = await command<RawRecord>(
        this.#client,
        ['HMGET', `${this.#options.prefix}g:${generation}:r:${key}`, 'd', 'v', 'x', 't'],
        this.#binary,
      )
      // No bytes: no record, or a delete's tombstone.
      if (bytes === null || version === null || tags === null) return undefined
      if (expiry === null) {
        this.#expiring -= this.#expiring * SHARE_STEP
        return { bytes, version: Number(version), ttl: 0, tags: parseTags(tags) }
      }
    }
    return (await this.getMany([key]))[0]
  }

  /** Every key's value in one round trip. */
  async getMany(keys: readonly string[]): Promise<(RemoteValue | undefined)[]> {
    if (keys.length === 0) return []
    const [generation, ...raw] = await GET.run<[number, ...RawValue[]]>(this.#client, [this.#options.prefix, ...keys], this.#binary)
    this.#generation.learnt(generation)
    return keys.map((_, i) => this.#toValue(raw[i] ?? null))
  }

  /** Stores a value; resolves with its version. */
  set(key: string, bytes: Uint8Array, ttl: number, tags: readonly string[], origin: string): Promise<number> {
    return this.setMany([{ key, bytes, ttl, tags }], origin)
  }

  /** Stores every entry under one version, told in one message. */
  async setMany(entries: readonly RemoteEntry[], origin: string): Promise<number> {
    const args = this.#writeArgs(
      origin,
      entries.map((e) => e.key),
    )
    for (const e of entries) args.push(e.key, e.bytes, String(ttl(e.ttl)), JSON.stringify(e.tags))
    const [version, generation] = await SET.run<[number, number]>(this.#client, args, this.#call)
    this.#generation.learnt(generation)
    return version
  }

  /**
   * Stores a loader's value unless a writer got there first: refused (undefined)
   * when the key has a value, or a set, delete or clear newer than `since`
   * (the version read before the load began) left its mark. A delete's mark
   * lasts `tombstoneTtl`; a value's lasts that long past its expiry.
   */
  async fill(key: string, bytes: Uint8Array, ttlMs: number, tags: readonly string[], since: number, origin: string): Promise<number | undefined> {
    const args = [...this.#writeArgs(origin, [key]), String(since), key, bytes, String(ttl(ttlMs)), JSON.stringify(tags)]
    const filled = await FILL.run<[number, number] | null>(this.#client, args, this.#call)
    if (filled === null) return undefined
    this.#generation.learnt(filled[1])
    return filled[0]
  }

  async delete(key: string, origin: string): Promise<{ existed: boolean; version: number }> {
    const { existed, version } = await this.deleteMany([key], origin)
    return { existed: existed > 0, version }
  }

  /** Deletes every key under one version; `existed` counts the keys that had a value. */
  async deleteMany(keys: readonly string[], origin: string): Promise<{ existed: number; version: number }> {
    const [existed, version, generation] = await DELETE.run<[number, number, number]>(this.#client, [...this.#writeArgs(origin, keys), ...keys], this.#call)
    this.#generation.learnt(generation)
    return { existed, version }
  }

  /** Deletes every key that has the tag now; its message names those keys. */
  async deleteTag(tag: string, origin: string): Promise<{ keys: string[]; version: number }> {
    const { prefix, retention, tombstoneTtl } = this.#options
    const args = [prefix, origin, String(retention), String(tombstoneTtl), tag]
    const [version, generation, ...keys] = await DELETE_TAG.run<[number, number, ...string[]]>(this.#client, args, this.#call)
    this.#generation.learnt(generation)
    return { keys, version }
  }

  /**
   * Hides every value at once by starting a new generation, then reclaims the
   * old generations' keys in SCAN slices. A slice that fails leaves its keys
   * to the next clear: they are unreadable already, and those with a TTL expire.
   */
  async clear(origin: string): Promise<number> {
    const { prefix, retention } = this.#options
    const version = await CLEAR.run<number>(this.#client, [prefix, origin, String(retention)], this.#call)
    this.#generation.learnt(version)
    await this.#reclaimBefore(version).catch(() => undefined)
    return version
  }

  /** The latest write's version (0 before any): a load reads it first and passes it to `fill` as `since`. */
  async version(): Promise<number> {
    return Number((await command<string | null>(this.#client, ['GET', this.#key('version')], this.#call)) ?? 0)
  }

  async ping(): Promise<void> {
    await command(this.#client, ['PING'], this.#call)
  }

  /** A value the script read; it says whether values read have an expiry. */
  #toValue(raw: RawValue): RemoteValue | undefined {
    if (raw === null) return undefined
    const [bytes, version, ttlLeft, tags] = raw
    this.#expiring += ((ttlLeft > 0 ? 1 : 0) - this.#expiring) * SHARE_STEP
    return { bytes, version, ttl: ttlLeft, tags: parseTags(tags) }
  }

  #key(name: string): string {
    return `${this.#options.prefix}${name}`
  }

  #writeArgs(origin: string, keys: readonly string[]): (string | Uint8Array)[] {
    const { prefix, retention, tombstoneTtl } = this.#options
    return [prefix, origin, String(retention), String(tombstoneTtl), JSON.stringify(keys)]
  }

  /** Unlinks the keys of generations older than `generation` (a newer clear's keys are not ours to take). */
  async #reclaimBefore(generation: number): Promise<void> {
    const head = this.#key('g:')
    let cursor = '0'
    do {
      const [next, keys] = await command<[string, string[]]>(
        this.#client,
        ['SCAN', cursor, 'MATCH', `${globEscape(head)}*`, 'COUNT', String(RECLAIM_SLICE)],
        this.#call,
      )
      cursor = next
      const old = keys.filter((key) => Number(key.slice(head.length, key.indexOf(':', head.length))) < generation)
      if (old.length > 0) await command(this.#client, ['UNLINK', ...old], this.#call)
    } while (cursor !== '0')
  }
}

const parseTags = (tags: Buffer): string[] => (isEmptyList(tags) ? [] : (JSON.parse(tags.toString('utf8')) as string[]))

/** `[]`, the tags of most values: no JSON to parse. */
const isEmptyList = (json: Buffer): boolean => json.length === 2 && json[0] === 0x5b && json[1] === 0x5d

/** A TTL as the scripts take it: whole ms, 0 for none. */
const ttl = (ms: number): number => (ms > 0 ? Math.max(1, Math.ceil(ms)) : 0)

const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&')
