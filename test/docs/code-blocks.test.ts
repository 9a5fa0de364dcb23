import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
// Inside the package, so that `import … from 'strata-cache'` resolves as it does for a user (self-reference through `exports`).
const blocksDir = join(root, '.doc-blocks')
// Each block runs in an empty directory of its own, so tsx is named by its place.
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href

interface Block {
  /** Where it is, e.g. `README.md:18`. */
  where: string
  file: string
  code: string
  /** Marked ```ts no-run: type-checked only. */
  runs: boolean
}

/** Every ```ts block of the README and of docs/*.md, in order. */
function extractBlocks(doc: string, text: string): Block[] {
  const blocks: Block[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts(?:\s+(.*))?$/.exec(lines[i])
    if (open === null) continue
    const start = i
    const body: string[] = []
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i])
    const where = `${doc}:${start + 1}`
    blocks.push({ where, file: `${where.replace(/[^\w]+/g, '-')}.ts`, code: body.join('\n'), runs: !(open[1] ?? '').split(/\s+/).includes('no-run') })
  }
  return blocks
}

async function documentedBlocks(): Promise<Block[]> {
  const docs = ['README.md', ...(await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  const blocks: Block[] = []
  for (const doc of docs) blocks.push(...extractBlocks(doc, await readFile(join(root, doc), 'utf8')))
  return blocks
}

const blocks = await documentedBlocks()

describe('extracting code blocks', () => {
  it('finds ```ts blocks with their line and their no-run mark, and nothing else', () => {
    const text = ['# t', '```ts', 'a()', '```', '```sh', 'b', '```', '```ts no-run', 'c()', 'd()', '```'].join('\n')
    expect(extractBlocks('x.md', text)).toEqual([
      { where: 'x.md:2', file: 'x-md-2.ts', code: 'a()', runs: true },
      { where: 'x.md:8', file: 'x-md-8.ts', code: 'c()\nd()', runs: false },
    ])
  })
})

// The docs' examples are what a user copies: each type-checks as written (strict, NodeNext) and runs to its end, exiting by itself.
describe('the code blocks of README.md and docs/', () => {
  const errors = new Map<string, string[]>()

  beforeAll(async () => {
    await rm(blocksDir, { recursive: true, force: true })
    await mkdir(blocksDir)
    // A block without import or export would be a script, where top-level await is an error.
    for (const block of blocks) await writeFile(join(blocksDir, block.file), `${block.code}\nexport {}\n`)
    await writeFile(
      join(blocksDir, 'tsconfig.json'),
      JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '.', noUnusedLocals: false }, include: ['*.ts'] }),
    )
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    const { stdout } = await run(process.execPath, [tsc, '-p', blocksDir, '--pretty', 'false'], { cwd: root, timeout: 60_000 }).catch(
      (e: { stdout: string }) => e,
    )
    for (const line of stdout.split('\n').filter((l) => l.trim() !== '')) {
      const file = /\.doc-blocks\/([^(]+)\(/.exec(line)?.[1] ?? '(config)'
      errors.set(file, [...(errors.get(file) ?? []), line])
    }
  }, 90_000)

  afterAll(async () => {
    await rm(blocksDir, { recursive: true, force: true })
  })

  it('has blocks to check, and tsc found nothing outside them', () => {
    expect(blocks.length).toBeGreaterThan(3)
    expect(errors.get('(config)')).toBeUndefined()
  })

  it('marks few blocks no-run', () => {
    expect(blocks.filter((b) => !b.runs).length).toBeLessThanOrEqual(2)
  })

  describe.each(blocks.map((b) => [b.where, b] as const))('%s', (_, block) => {
    it('type-checks', () => {
      expect(errors.get(block.file) ?? []).toEqual([])
    })

    if (block.runs)
      it('runs and exits by itself', async () => {
        const cwd = await mkdtemp(join(tmpdir(), 'strata-doc-'))
        try {
          await run(process.execPath, ['--import', tsx, join(blocksDir, block.file)], { cwd, timeout: 20_000 })
        } finally {
          await rm(cwd, { recursive: true, force: true })
        }
      }, 30_000)
  })
})
