import { readdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'

/** Files this process has open under `dir`, removed ones too (Linux: /proc/self/fd). */
export async function openFilesUnder(dir: string): Promise<string[]> {
  const open: string[] = []
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '')
    if (target.startsWith(dir)) open.push(target)
  }
  return open
}
