import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CacheError } from '../../../src/errors.js'
import { ColdStore, type ColdStoreOptions } from '../../../src/tiers/cold/index.js'

/** A temp dir per test, removed by `cleanup()`. */
export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-cold-'))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

class FakeClock {
  t = 1_700_000_000_000
  now = (): number => this.t
}

export interface Harness {
  dir: string
  clock: FakeClock
  errors: CacheError[]
  open(extra?: Partial<ColdStoreOptions>): Promise<ColdStore>
}

export function harness(dir: string, base: Partial<ColdStoreOptions> = {}): Harness {
  const clock = new FakeClock()
  const errors: CacheError[] = []
  return {
    dir,
    clock,
    errors,
    open: (extra = {}) => ColdStore.open({ dir, now: clock.now, onError: (e) => errors.push(e), ...base, ...extra }),
  }
}

export const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))
export const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('utf8'))

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort()
}

export async function hintFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.hint')).sort()
}
