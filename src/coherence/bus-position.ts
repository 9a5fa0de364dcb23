import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '../files/durable-file.js'

/**
 * Where an instance stopped reading the bus: the server's epoch, the last
 * stream entry it had applied, and how many entries the stream had added up
 * to it (what tells a trimmed stream from a quiet one).
 */
export interface BusPosition {
  epoch: string
  lastId: string
  seen: number
}

/** The file beside a disk tier's segments that keeps the position at which its copies were last made coherent. */
const BUS_POSITION_FILE = 'BUS'

const isPosition = (value: unknown): value is BusPosition => {
  const p = value as BusPosition
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof p.epoch === 'string' &&
    typeof p.lastId === 'string' &&
    /^\d+-\d+$/.test(p.lastId) &&
    Number.isSafeInteger(p.seen) &&
    p.seen >= 0
  )
}

/** The position saved in `dir`, or undefined when there is none (or it cannot be read: the copies are then dropped). */
export async function readBusPosition(dir: string): Promise<BusPosition | undefined> {
  try {
    const saved: unknown = JSON.parse(await readFile(join(dir, BUS_POSITION_FILE), 'utf8'))
    return isPosition(saved) ? { epoch: saved.epoch, lastId: saved.lastId, seen: saved.seen } : undefined
  } catch {
    return undefined
  }
}

/** Saves `position` in `dir` durably: whole under a temporary name, data-synced, renamed, the directory synced. */
export async function saveBusPosition(dir: string, position: BusPosition): Promise<void> {
  await writeFileDurably(join(dir, BUS_POSITION_FILE), JSON.stringify(position))
}
