import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisUrl } from '../helpers/redis.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const preload = fileURLToPath(new URL('./fixtures/without-redis.ts', import.meta.url))
const script = fileURLToPath(new URL('./fixtures/use-cache.ts', import.meta.url))

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'optional-redis-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs the fixture with the preload; its stdout, and what the preload saw of 'redis'. */
async function useCache(args: string[], allowed: boolean): Promise<{ stdout: string; redis: string[] }> {
  const log = join(dir, `${args[0]}-${allowed}.log`)
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', preload, script, ...args], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, REDIS_LOG: log, REDIS_ALLOWED: allowed ? '1' : '0' },
  })
  const seen = await readFile(log, 'utf8').catch(() => '')
  return { stdout: stdout.trim(), redis: seen.split('\n').filter((line) => line !== '') }
}

// `redis` is an optional peer dependency: only a user of `remote` (or a Redis bus) installs it.
describe('the redis package is needed only by a cache with a remote tier', () => {
  it('a cache with every local tier, a loader and a BroadcastChannel bus works where redis cannot be found, and never asks for it', async () => {
    const { stdout, redis } = await useCache(['local'], false)
    expect(stdout).toBe('ok v0, loaded absent, by factory')
    expect(redis).toEqual([])
  }, 60_000)

  it('a cache with a remote tier asks for it: where it cannot be found, ready rejects E_INVALID_OPTIONS saying what to install', async () => {
    const { stdout, redis } = await useCache(['remote', redisUrl()], false)
    expect(stdout).toMatch(/^E_INVALID_OPTIONS .*npm install redis/)
    expect(redis).toEqual(['import redis'])
  }, 60_000)

  it('where it is installed, the same cache loads it and the preload sees its modules loaded', async () => {
    const { stdout, redis } = await useCache(['remote', redisUrl()], true)
    expect(stdout).toBe('ok v')
    expect(redis[0]).toBe('import redis')
    expect(redis.some((line) => /^loaded .*node_modules[\\/]redis[\\/]/.test(line))).toBe(true)
    expect(redis.some((line) => /^loaded .*node_modules[\\/]@redis[\\/]client[\\/]/.test(line))).toBe(true)
  }, 60_000)
})
