import { EXIT_FINDING, EXIT_OK } from './cli-error.js'
import { plural } from './format.js'
import { scanStore, type StoreReport } from './store-scan.js'

export interface VerifyOptions {
  json?: boolean
}

interface VerifyFinding {
  file: string
  offset: number
  length: number
  kind: 'corrupt' | 'corrupt to end of segment' | 'torn tail' | 'hint mismatch' | 'records lost'
}

/**
 * `strata-cache verify DIR`: checks the CRC of every record of every segment
 * and that each hint opening would trust lists exactly the segment's records.
 * Returns 0 when clean, 1 on any finding (a torn tail included: recovery
 * would cut it off, losing whatever it held).
 */
export async function verify(dir: string, opts: VerifyOptions, out: (text: string) => void): Promise<number> {
  // Expiry plays no part in a CRC check; 0 keeps the scan independent of the clock.
  const report = await scanStore(dir, 0)
  const findings = findingsOf(report)
  const code = findings.length === 0 ? EXIT_OK : EXIT_FINDING
  if (opts.json === true) {
    const { segments, records, size } = report.totals
    out(JSON.stringify({ dir, ok: code === EXIT_OK, segments, records, bytes: size, findings }, null, 2))
  } else {
    out(render(report, findings))
  }
  return code
}

function findingsOf(r: StoreReport): VerifyFinding[] {
  const findings: VerifyFinding[] = []
  for (const s of r.segments) {
    for (const c of s.corrupt) {
      const kind = c.tornTail ? 'torn tail' : c.atEnd ? 'corrupt to end of segment' : 'corrupt'
      findings.push({ file: s.file, offset: c.offset, length: c.length, kind })
    }
    if (s.hint === 'mismatch') findings.push({ file: s.file, offset: 0, length: s.size, kind: 'hint mismatch' })
    if (s.lost > 0) findings.push({ file: s.file, offset: 0, length: s.lost, kind: 'records lost' })
  }
  return findings
}

function render(r: StoreReport, findings: readonly VerifyFinding[]): string {
  const lines = findings.map((f) =>
    f.kind === 'hint mismatch'
      ? `${f.file}: hint mismatch: its hint file is valid, so opening trusts it, but it does not list the records the segment holds`
      : f.kind === 'records lost'
        ? `${f.file}: ${plural(f.length, 'record')} that its hint lists ${f.length === 1 ? 'is' : 'are'} gone or damaged (the segment was cut short or overwritten)`
        : `${f.file}: ${f.kind} at offset ${f.offset}, ${plural(f.length, 'byte')}`,
  )
  const t = r.totals
  const checked = `${plural(t.segments, 'segment')}, ${plural(t.records, 'record')}, ${plural(t.size, 'byte')} checked`
  if (findings.length === 0) {
    lines.push(`OK: ${checked}, no corruption`)
  } else {
    const torn = findings.filter((f) => f.kind === 'torn tail').length
    const bad = new Set(findings.map((f) => f.file)).size
    lines.push(
      `CORRUPT: ${checked}; ${plural(findings.length, 'problem')} in ${plural(bad, 'segment')}` +
        (torn > 0 ? ` (including a torn tail on the newest segment)` : ''),
    )
  }
  return lines.join('\n')
}
