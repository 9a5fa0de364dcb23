/** Exit codes of every command: 0 clean, 1 a finding (corruption), 2 could not do the job. */
export const EXIT_OK = 0
export const EXIT_FINDING = 1
export const EXIT_FAILED = 2

/** A failure the CLI reports as one line on stderr, then exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError'

  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message)
  }
}

/** An fs error as a sentence a person at a terminal can act on. */
export function describeFsError(e: unknown, path: string): CliError {
  const code = (e as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOENT':
      return new CliError(`${path}: no such file or directory`)
    case 'ENOTDIR':
      return new CliError(`${path}: not a directory`)
    case 'EACCES':
    case 'EPERM':
      return new CliError(`${path}: permission denied`)
    default:
      return new CliError(`${path}: ${(e as Error).message}`)
  }
}
