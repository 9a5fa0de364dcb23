import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

// `npm test` builds first; these check what a user of the built package gets.
describe('the built package', () => {
  it('is importable by name as plain ESM, and a script using it exits by itself', async () => {
    const script = `
      import { createCache, CacheError } from 'strata-cache'
      const cache = createCache({ warm: { maxBytes: 1 << 20 }, ttl: 1000 })
      await cache.set('k', new Map([[1, 2n]]))
      const value = await cache.get('k')
      await cache.close()
      const closed = await cache.get('k').catch((e) => e instanceof CacheError && e.code)
      console.log(value.get(1) === 2n, closed)
    `
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 10_000 })
    expect(stdout.trim()).toBe('true E_CLOSED')
  })

  it('ships a CLI that answers --version', async () => {
    const { stdout } = await run(process.execPath, ['dist/src/cli/main.js', '--version'], { cwd: root, timeout: 10_000 })
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})

/**
 * What `npm install <git url>` does, without the network: a clone's files
 * (no `dist/`) packed by npm, which runs `prepare`; then that tarball
 * installed into a new project, as a user would install it.
 */
describe('the packed package, installed into a fresh project', () => {
  let work: string
  let app: string
  let packed: string[]

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-pack-'))
    const clone = join(work, 'clone')
    const { stdout: listed } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root })
    for (const file of listed.split('\n').filter((f) => f !== '' && existsSync(join(root, f)))) {
      await mkdir(dirname(join(clone, file)), { recursive: true })
      await cp(join(root, file), join(clone, file))
    }
    // A git install runs `npm install` first; the repository's own modules stand in for it.
    await symlink(join(root, 'node_modules'), join(clone, 'node_modules'), 'dir')
    const { stdout: report } = await run(npm, ['pack', '--json', '--pack-destination', work], { cwd: clone, timeout: 60_000 })
    const [{ filename, files }] = JSON.parse(report.slice(report.indexOf('['))) as { filename: string; files: { path: string }[] }[]
    packed = files.map((f) => f.path)

    app = join(work, 'app')
    await mkdir(app)
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, filename)], { cwd: app, timeout: 60_000 })
  }, 120_000)

  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  it('holds the build, the licence and the docs the README links to, and no tests or traces', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8')
    expect(packed).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'LICENSE', 'README.md', 'package.json']))
    const links = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((m) => m[1])
    expect(links.length).toBeGreaterThan(0)
    expect(packed).toEqual(expect.arrayContaining(links.filter((l) => !l.startsWith('docs/api'))))
    expect(packed.filter((p) => /^(test|bench|src|examples)\//.test(p))).toEqual([])
  })

  it('brings rxjs along as a peer, one copy shared with the app', async () => {
    const manifest = JSON.parse(await readFile(join(app, 'node_modules/strata-cache/package.json'), 'utf8'))
    expect(manifest.peerDependencies).toEqual({ rxjs: '^7.8.0', redis: '^6.4.0' })
    // redis only for a user of the remote tier or the Redis bus: not installed along
    expect(manifest.peerDependenciesMeta).toEqual({ redis: { optional: true } })
    expect(existsSync(join(app, 'node_modules/redis'))).toBe(false)
    expect(Object.keys(manifest.dependencies)).not.toContain('rxjs')
    expect(existsSync(join(app, 'node_modules/rxjs/package.json'))).toBe(true)
    expect(existsSync(join(app, 'node_modules/strata-cache/node_modules/rxjs'))).toBe(false)
  })

  it('runs an ESM script that sets, gets, closes and exits by itself', async () => {
    await writeFile(
      join(app, 'use.mjs'),
      `import { createCache } from 'strata-cache'
       const cache = createCache({ warm: { maxBytes: 1 << 20 }, ttl: 60_000 })
       await cache.set('user:1', { name: 'Ada' }, { tags: ['users'] })
       const user = await cache.get('user:1')
       await cache.close()
       console.log(user.name)`,
    )
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: app, timeout: 10_000 })
    expect(stdout.trim()).toBe('Ada')
  })

  it('loads through require on this Node (which loads ES modules through require), as the same module', async () => {
    await writeFile(
      join(app, 'use.cjs'),
      `const { createCache, CacheError } = require('strata-cache')
       const cache = createCache({})
       cache.set('k', 1).then(() => cache.get('k')).then(async (v) => {
         await cache.close()
         const esm = await import('strata-cache')
         console.log(v, esm.CacheError === CacheError)
       })`,
    )
    const { stdout } = await run(process.execPath, ['use.cjs'], { cwd: app, timeout: 10_000 })
    expect(stdout.trim()).toBe('1 true')
  })

  it('type-checks with module and moduleResolution NodeNext, from ESM and CommonJS files', async () => {
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        include: ['*.ts', '*.cts'],
      }),
    )
    await writeFile(
      join(app, 'use.ts'),
      `import { createCache, CacheError, type Cache, type CacheEvent } from 'strata-cache'
       import { filter } from 'rxjs'
       interface User { name: string }
       const cache: Cache<User> = createCache<User>({ hot: { maxEntries: 100 }, ttl: 1_000 })
       cache.events$.pipe(filter((e: CacheEvent) => e.type === 'set')).subscribe()
       const user: User | undefined = await cache.get('user:1')
       const code: string | undefined = user === undefined ? new CacheError('E_CLOSED', 'closed').code : undefined
       await cache.close()
       export { code }`,
    )
    await writeFile(join(app, 'use.cts'), `import { createCache } from 'strata-cache'\nexport const cache = createCache<number>({})\n`)
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, timeout: 60_000 }).catch((e: { stdout: string }) => e)
    expect(result.stdout).toBe('')
  })

  it('installs its CLI as a bin', async () => {
    const { stdout } = await run(join(app, 'node_modules/.bin/strata-cache'), ['--version'], { cwd: app, timeout: 10_000 })
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
}, 180_000)
