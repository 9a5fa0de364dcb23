#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { CliError, EXIT_FAILED } from './cli-error.js'
import { compact } from './compact.js'
import { inspect } from './inspect.js'
import { verify } from './verify.js'

/**
 * The package's version. The CLI is a tool run by hand, not library code: it
 * may read its own manifest at start. Built it runs from dist/src/cli/, from
 * source (tsx) from src/cli/, so the manifest is three or two levels up.
 */
async function readVersion(): Promise<string> {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const m = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (m.name === 'strata-cache' && typeof m.version === 'string') return m.version
    } catch {
      // Not there from this layout; try the next.
    }
  }
  return '0.0.0'
}

const integer =
  (what: string) =>
  (value: string): number => {
    const n = Number(value)
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer`)
    return n
  }

const print = (text: string): void => {
  process.stdout.write(`${text}\n`)
}

/** Runs a command body; its result is the exit code, a CliError's message goes to stderr. */
const action =
  <A extends unknown[]>(body: (...args: A) => Promise<number>) =>
  async (...args: A): Promise<void> => {
    try {
      process.exitCode = await body(...args)
    } catch (e) {
      if (!(e instanceof CliError)) throw e
      process.stderr.write(`strata-cache: ${e.message}\n`)
      process.exitCode = e.exitCode
    }
  }

const program = new Command()
  .name('strata-cache')
  .description("Tools for strata-cache stores (the cold tier's directory): inspect, verify and compact.")
  .version(await readVersion())
  // Usage errors exit 2, as verify documents; help and --version exit 0.
  .exitOverride()
  .showHelpAfterError('(run strata-cache --help for usage)')

program
  .command('inspect')
  .description('print each segment: size, live and dead bytes, live entries, tombstones, corrupt records; then totals')
  .argument('<dir>', 'the store directory')
  .option('--json', 'machine-readable output')
  .option('--now <ms>', 'judge expiry at this time (ms since epoch) instead of now', integer('--now'))
  .action(action((dir: string, opts: { json?: boolean; now?: number }) => inspect(dir, opts, print)))

program
  .command('verify')
  .description('check the CRC of every record; exit 0 when clean, 1 on any corruption (torn tail included), 2 when DIR is not a readable store')
  .argument('<dir>', 'the store directory')
  .option('--json', 'machine-readable output')
  .action(action((dir: string, opts: { json?: boolean }) => verify(dir, opts, print)))

program
  .command('compact')
  .description('compact a closed store (E_LOCKED, exit 2, while a process has it open); prints bytes on disk before and after')
  .argument('<dir>', 'the store directory')
  .option('--segment-bytes <n>', 'size of the segments it writes (default: the largest existing segment)', integer('--segment-bytes'))
  .action(action((dir: string, opts: { segmentBytes?: number }) => compact(dir, opts, print)))

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (e instanceof CommanderError) {
    // Commander has printed its message already.
    process.exitCode = e.exitCode === 0 ? 0 : EXIT_FAILED
  } else {
    // Not 1: to verify's callers, 1 means "corrupt".
    process.stderr.write(`strata-cache: unexpected error: ${(e as Error).stack ?? String(e)}\n`)
    process.exitCode = EXIT_FAILED
  }
}
