import { createHash } from 'node:crypto'
import type { RedisClient } from './redis-client.js'
import { type CommandCall, causeMessage, command } from './redis-command.js'

/**
 * A Lua script run by its SHA1 (EVALSHA), sent whole (EVAL) when the server
 * does not know it: after a restart, a SCRIPT FLUSH, or on first use.
 *
 * The scripts build key names from the prefix they are given, so they
 * declare no KEYS: this is not for Redis Cluster, where every key a script
 * touches must be declared and live in one slot.
 */
export class LuaScript {
  readonly #source: string
  readonly #sha: string

  constructor(source: string) {
    this.#source = source
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  /** Loads the script, so that the first EVALSHA finds it. */
  async load(client: RedisClient, call: CommandCall): Promise<void> {
    await command(client, ['SCRIPT', 'LOAD', this.#source], call)
  }

  async run<T>(client: RedisClient, args: ReadonlyArray<string | Uint8Array>, call: CommandCall): Promise<T> {
    try {
      return await command<T>(client, ['EVALSHA', this.#sha, '0', ...args], call)
    } catch (error) {
      if (!causeMessage(error).startsWith('NOSCRIPT')) throw error
      return command<T>(client, ['EVAL', this.#source, '0', ...args], call)
    }
  }
}
