/**
 * The compiled package (dist/), as users run it: a bench that measures the
 * public path imports it from here rather than running src/ through tsx,
 * whose keepNames helper names every closure created per call (4.6 % of a
 * read's profile). `npm run bench` builds once before the scenarios; a
 * scenario run on its own refuses a dist/ older than the sources.
 */
import { readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const ROOT = resolve(import.meta.dirname, '..')

function newestSource(dir: string): { path: string; mtime: number } {
  let newest = { path: dir, mtime: 0 }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const found = entry.isDirectory() ? newestSource(path) : entry.name.endsWith('.ts') ? { path, mtime: statSync(path).mtimeMs } : newest
    if (found.mtime > newest.mtime) newest = found
  }
  return newest
}

function checkBuilt(): void {
  const source = [newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'streams'))].reduce((a, b) => (a.mtime >= b.mtime ? a : b))
  const js = join(ROOT, 'dist', relative(ROOT, source.path).replace(/\.ts$/, '.js'))
  let built = 0
  try {
    built = statSync(js).mtimeMs
  } catch {
    // not built
  }
  if (built < source.mtime) throw new Error(`dist/ is older than ${relative(ROOT, source.path)}: run \`npm run build\` first`)
}

/** Imports `path` (say 'src/index.js') from the compiled package, after checking that dist/ is up to date. */
export async function importBuilt<T>(path: string): Promise<T> {
  checkBuilt()
  return (await import(pathToFileURL(join(ROOT, 'dist', path)).href)) as T
}
