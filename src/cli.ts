#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { Command } from 'commander'

// The CLI is a tool run by hand, not library code: it may read its own manifest at start.
const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

const program = new Command()
  .name('strata-cache')
  .description('Tools for strata-cache stores. The cold tier adds inspect, verify and compact.')
  .version(manifest.version)

await program.parseAsync(process.argv)
