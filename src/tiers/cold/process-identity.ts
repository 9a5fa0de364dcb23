import { readFile, readlink } from 'node:fs/promises'

/**
 * What tells a process apart from a later one that got the same pid (Linux
 * only; elsewhere both are undefined and a pid is all there is).
 */
export interface ProcessIdentity {
  /** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  start: string | undefined
  /** The kernel's boot id: every process of an earlier boot is gone. */
  boot: string | undefined
  /** The pid namespace: a pid names the same process only within one. */
  pidNamespace: string | undefined
}

let own: Promise<ProcessIdentity> | undefined

/** This process's identity, read once. */
export function ownIdentity(): Promise<ProcessIdentity> {
  own ??= readOwnIdentity()
  return own
}

/**
 * When process `pid` started, or undefined when /proc cannot tell (no such
 * process, no /proc). Only meaningful when `ownIdentity().start` is defined:
 * then /proc numbers processes as this process does.
 */
export async function startTimeOf(pid: number): Promise<string | undefined> {
  return (await readStat(String(pid)))?.start
}

async function readOwnIdentity(): Promise<ProcessIdentity> {
  const [stat, boot, pidNamespace] = await Promise.all([
    readStat('self'),
    readTrimmed('/proc/sys/kernel/random/boot_id'),
    readlink('/proc/self/ns/pid').catch(() => undefined),
  ])
  // A /proc mounted for another pid namespace numbers processes otherwise: what it tells is of others.
  const trusted = stat?.pid === process.pid
  return { start: trusted ? stat.start : undefined, boot, pidNamespace: trusted ? pidNamespace : undefined }
}

async function readStat(pid: string): Promise<{ pid: number; start: string } | undefined> {
  const text = await readTrimmed(`/proc/${pid}/stat`)
  if (text === undefined) return undefined
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const start = fields[19]
  return start !== undefined && /^\d+$/.test(start) ? { pid: Number(text.slice(0, text.indexOf(' '))), start } : undefined
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch {
    return undefined
  }
}
