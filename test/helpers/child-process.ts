import { spawn, type ChildProcess } from 'node:child_process'

export interface Child {
  proc: ChildProcess
  lines: string[]
  /** Resolves with the first stdout line matching `re`. */
  waitFor(re: RegExp): Promise<string>
  exited: Promise<number | null>
}

/**
 * Runs a TypeScript script in a child process and follows its stdout line by
 * line. `wrapper` is a command that runs node in turn (e.g. `unshare ...`).
 */
export function spawnScript(script: string, args: string[], env: Record<string, string> = {}, wrapper: string[] = []): Child {
  const command = [...wrapper, process.execPath, '--import', 'tsx', script, ...args]
  const proc = spawn(command[0] as string, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  const lines: string[] = []
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = []
  let partial = ''
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk
    const parts = partial.split('\n')
    partial = parts.pop()!
    for (const line of parts) {
      lines.push(line)
      for (const w of waiters.filter((w) => w.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  proc.stderr!.resume()
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return {
    proc,
    lines,
    exited,
    waitFor: (re) => {
      const seen = lines.find((l) => re.test(l))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        waiters.push({ re, resolve })
        void exited.then((code) => reject(new Error(`child exited (${code}) before ${re}; stdout: ${lines.join(' | ')}`)))
      })
    },
  }
}
