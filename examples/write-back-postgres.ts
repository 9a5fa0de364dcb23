// A write-back cache in front of PostgreSQL: writes are acknowledged once they are in the cache and fsynced in the
// journal, and reach the table later, coalesced by key, in batches of one transaction each. Reads that miss the cache
// load from the table. Needs PostgreSQL on 127.0.0.1:5432 with a database `test` (PGUSER, default postgres).
//
//   npx tsx examples/write-back-postgres.ts
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { createCache, type WriteOp } from 'strata-cache'

interface Account {
  owner: string
  balance: number
}

const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, database: 'test', user: process.env.PGUSER ?? 'postgres', max: 4 })
await pool.query('CREATE TABLE IF NOT EXISTS strata_accounts (key text PRIMARY KEY, value jsonb NOT NULL)')

// Idempotent: an upsert or a delete gives the same table when run twice, as write-back's at-least-once delivery needs.
async function write(ops: WriteOp<Account>[], { signal }: { signal: AbortSignal }): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    for (const op of ops) {
      if (signal.aborted) throw signal.reason
      if (op.type === 'set') {
        await client.query('INSERT INTO strata_accounts (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [
          op.key,
          op.value,
        ])
      } else {
        await client.query('DELETE FROM strata_accounts WHERE key = $1', [op.key])
      }
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  } finally {
    client.release()
  }
}

const load = async (key: string): Promise<Account | undefined> =>
  (await pool.query<{ value: Account }>('SELECT value FROM strata_accounts WHERE key = $1', [key])).rows[0]?.value

const dir = await mkdtemp(join(tmpdir(), 'strata-pg-example-'))
const cache = createCache<Account>({
  hot: { maxEntries: 10_000 },
  loader: load,
  writer: { write, mode: 'back', journal: join(dir, 'journal'), flushInterval: 500, batchSize: 200 },
})
cache.events$.subscribe((e) => {
  if (e.type === 'flush') console.log(`flushed ${e.count} ops in ${e.ms} ms`)
  if (e.type === 'write-error') console.log(`write failed for ${e.keys.length} keys, they stay dirty: ${e.error.message}`)
})

const started = performance.now()
for (let i = 0; i < 500; i++) await cache.set(`account:${i % 100}`, { owner: `owner ${i % 100}`, balance: i })
await cache.delete('account:99')
const ms = performance.now() - started
console.log(`501 writes acknowledged in ${ms.toFixed(0)} ms; dirty keys: ${cache.stats().dirty}`)

await cache.flush()
const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM strata_accounts WHERE key LIKE 'account:%'`)
console.log(`rows in PostgreSQL: ${rows[0]?.n}; source writes: ${cache.stats().written} for 501 cache writes`)
console.log(`account:7 from the table: ${JSON.stringify(await load('account:7'))}`)

await cache.close()
await pool.query(`DELETE FROM strata_accounts WHERE key LIKE 'account:%'`)
await pool.end()
await rm(dir, { recursive: true, force: true })
