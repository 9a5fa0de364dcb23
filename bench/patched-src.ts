/**
 * Loads a private copy of src/ (and streams/, which it imports) with textual
 * patches applied: the way to compare the real code against the same code
 * with one thing taken out, without touching src/. Each patch must match
 * exactly, or this throws: a benchmark must not silently compare a copy
 * against itself after src/ changes.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface Patch {
  /** Path under the project root, e.g. 'src/stack/tier-stack.ts'. */
  file: string
  from: string
  to: string
  /** How many occurrences must be replaced; every one by default, at least one. */
  count?: number
}

const ROOT = resolve(import.meta.dirname, '..')
const copies: string[] = []
process.on('exit', () => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

/** Imports `src/index.ts` from a fresh copy with `patches` applied (none: an identical copy). */
export async function importPatched<T = typeof import('../src/index.js')>(patches: Patch[]): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'))
  copies.push(dir)
  for (const entry of ['src', 'streams', 'tsconfig.json', 'package.json']) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true })
  // Bare imports (rxjs, msgpackr) resolve to the project's own packages.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  for (const patch of patches) {
    const path = join(dir, patch.file)
    const text = readFileSync(path, 'utf8')
    const found = text.split(patch.from).length - 1
    if (found === 0 || (patch.count !== undefined && found !== patch.count)) {
      throw new Error(`patch for ${patch.file} matched ${found} times, expected ${patch.count ?? 'at least 1'}: ${patch.from}`)
    }
    writeFileSync(path, text.split(patch.from).join(patch.to))
  }
  return (await import(pathToFileURL(join(dir, 'src/index.ts')).href)) as T
}
