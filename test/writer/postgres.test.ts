import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, type WriteOp } from '../../src/index.js'

// A real database: PostgreSQL on 127.0.0.1:5432, trust auth, database `test` (PGUSER, else postgres, else root).
// `bash .ci/run` starts one when nothing listens there. Missing, this test fails: it never skips.
const HOW_TO_START =
  'PostgreSQL is needed on 127.0.0.1:5432 (trust auth, database `test`): run `bash .ci/run` (it starts one), or e.g. ' +
  '`apt-get install postgresql && pg_ctlcluster <version> main start && createdb -U postgres test`'

async function connect(): Promise<pg.Pool> {
  const users = [process.env.PGUSER, 'postgres', 'root'].filter((u): u is string => u !== undefined)
  const errors: string[] = []
  for (const user of users) {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, database: 'test', user, max: 4, connectionTimeoutMillis: 5000 })
    try {
      await pool.query('SELECT 1')
      return pool
    } catch (error) {
      errors.push(`${user}: ${(error as Error).message}`)
      await pool.end()
    }
  }
  throw new Error(`${HOW_TO_START} (${errors.join('; ')})`)
}

interface Row {
  n: number
}

describe('write-back in front of PostgreSQL', () => {
  let pool: pg.Pool
  let dir: string
  const table = `strata_writer_${process.pid}`

  beforeAll(async () => {
    pool = await connect()
    await pool.query(`CREATE TABLE ${table} (key text PRIMARY KEY, value jsonb NOT NULL)`)
    dir = await mkdtemp(join(tmpdir(), 'strata-pg-'))
  })
  afterAll(async () => {
    await pool?.query(`DROP TABLE IF EXISTS ${table}`)
    await pool?.end()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const writeTo =
    (failing: { on: boolean }) =>
    async (ops: WriteOp<Row>[]): Promise<void> => {
      if (failing.on) throw new Error('connection refused')
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        for (const op of ops) {
          if (op.type === 'set') {
            await client.query(`INSERT INTO ${table} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [op.key, op.value])
          } else await client.query(`DELETE FROM ${table} WHERE key = $1`, [op.key])
        }
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      } finally {
        client.release()
      }
    }
  const tableRows = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await pool.query<{ key: string; value: Row }>(`SELECT key, value FROM ${table}`)).rows.map((r) => [r.key, r.value.n]))

  it('writes each key’s last value in coalesced batches, replays what a failing close left, and never loads a dirty key', async () => {
    const failing = { on: false }
    const journal = join(dir, 'journal')
    const loads: string[] = []
    const loader = async (key: string): Promise<Row | undefined> => {
      loads.push(key)
      return (await pool.query<{ value: Row }>(`SELECT value FROM ${table} WHERE key = $1`, [key])).rows[0]?.value
    }
    const options = {
      hot: { maxEntries: 10 },
      loader,
      closeTimeout: 200,
      writer: { mode: 'back' as const, journal, write: writeTo(failing), batchSize: 50, retry: { attempts: 1 } },
    }
    const cache = createCache<Row>(options)
    await Promise.all(Array.from({ length: 400 }, (_, i) => cache.set(`k${i % 40}`, { n: i })))
    await cache.delete('k0')
    // Hot holds 10 entries: the rest are read from the dirty set, not from the table (which has none of them yet).
    expect(await cache.get('k39')).toEqual({ n: 399 })
    expect(await cache.get('k0')).toBeUndefined()
    expect(loads).toEqual([])
    await cache.flush()
    const expected = Object.fromEntries(Array.from({ length: 39 }, (_, i) => [`k${i + 1}`, 360 + i + 1]))
    expect(await tableRows()).toEqual(expected)
    expect(cache.stats().written).toBeLessThan(401)

    // The database goes away: acknowledged writes wait in the journal across a close, and reach it after the next open.
    failing.on = true
    await cache.set('k1', { n: 1000 })
    await cache.set('k2', { n: 1001 })
    await cache.close()
    failing.on = false
    const reopened = createCache<Row>(options)
    expect(await reopened.get('k1')).toEqual({ n: 1000 })
    await reopened.flush()
    expect(await tableRows()).toMatchObject({ k1: 1000, k2: 1001, k3: 363 })
    await reopened.close()
  })
})
