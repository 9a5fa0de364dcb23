import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

/**
 * The folders are the architecture: each has a rank, and a module may import
 * only from its own folder or from folders of a lower rank. Folders of one
 * rank may import each other, but no module graph may have a cycle.
 */
const RANKS: Record<string, number> = {
  errors: 0,
  codec: 1,
  files: 1,
  policies: 1,
  tags: 1,
  streams: 1,
  observe: 2,
  guards: 2,
  tiers: 3,
  'tiers/memory': 3,
  'tiers/cold': 3,
  remote: 3,
  coherence: 3,
  options: 4,
  stack: 5,
  'read-through': 6,
  prefetch: 6,
  writer: 6,
  cache: 7,
  facade: 8,
  index: 9,
  cli: 9,
}

const ROOT = resolve(import.meta.dirname, '..')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

/** The folder a module belongs to: `streams`, a folder under src (tiers by kind), or a root file's own name. */
function folderOf(file: string): string {
  const parts = relative(ROOT, file).split('/')
  if (parts[0] === 'streams') return 'streams'
  if (parts.length === 2) return parts[1].replace(/\.ts$/, '')
  if (parts[1] === 'tiers' && parts.length > 3) return `tiers/${parts[2]}`
  return parts[1]
}

const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'streams'))]
const imports = new Map<string, string[]>()
for (const file of files) {
  const text = readFileSync(file, 'utf8')
  const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.\.?\/[^']+)'/g)].map((m) => resolve(dirname(file), m[1].replace(/\.js$/, '.ts')))
  imports.set(file, targets)
}

describe('architecture', () => {
  it('gives every folder a rank', () => {
    const unranked = [...new Set(files.map(folderOf))].filter((folder) => RANKS[folder] === undefined)
    expect(unranked).toEqual([])
  })

  it('has no import running from a folder up to a folder above it', () => {
    const upward: string[] = []
    for (const [file, targets] of imports) {
      for (const target of targets) {
        const from = folderOf(file)
        const to = folderOf(target)
        if (RANKS[to] > RANKS[from]) upward.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`)
      }
    }
    expect(upward).toEqual([])
  })

  it('has no import cycle', () => {
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const path: string[] = []
    const visit = (file: string): void => {
      state.set(file, 'open')
      path.push(file)
      for (const target of imports.get(file) ?? []) {
        if (state.get(target) === 'open') {
          cycles.push(
            path
              .slice(path.indexOf(target))
              .concat(target)
              .map((f) => relative(ROOT, f))
              .join(' -> '),
          )
        } else if (!state.has(target)) visit(target)
      }
      path.pop()
      state.set(file, 'done')
    }
    for (const file of files) if (!state.has(file)) visit(file)
    expect(cycles).toEqual([])
  })

  it('sees the imports it judges', () => {
    // A check that found nothing to check would pass whatever the code did.
    expect(files.length).toBeGreaterThan(50)
    expect([...imports.values()].flat().length).toBeGreaterThan(150)
  })
})
