import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const docs = ['README.md', ...(await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const texts = new Map(await Promise.all(docs.map(async (doc) => [doc, await readFile(join(root, doc), 'utf8')] as const)))

/** Relative Markdown links, `[text](target)`, without their #anchor. */
const relativeLinks = (text: string): string[] =>
  [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1].split('#')[0]).filter((target) => target !== '' && !/^[a-z]+:/.test(target))

// The docs are for users, not a development log: what the cache does, not which ticket asked for it.
describe('the user docs', () => {
  it('are all linked from the README', () => {
    const linked = relativeLinks(texts.get('README.md')!)
    expect(docs.filter((doc) => doc !== 'README.md' && !linked.includes(doc))).toEqual([])
  })

  it('link only to files that exist in the repository', () => {
    const broken = docs.flatMap((doc) =>
      relativeLinks(texts.get(doc)!)
        .filter((target) => !existsSync(join(root, dirname(doc), target)))
        .map((target) => `${doc} -> ${target}`),
    )
    expect(broken).toEqual([])
  })

  it.each(docs)('%s cites no issue, ticket or commit', (doc) => {
    const lines = texts.get(doc)!.split('\n')
    expect(lines.filter((line) => /\bissue \d|\(#\d+\)|fixed in commit/i.test(line))).toEqual([])
  })
})
