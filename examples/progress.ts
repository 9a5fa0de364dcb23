import cliProgress from 'cli-progress'

export interface ProgressFields {
  hitRatio: string
  rate: string
}

export interface Progress {
  update(done: number, fields: ProgressFields): void
  stop(): void
}

/**
 * A progress bar on a terminal; elsewhere (CI, a pipe) one plain line every
 * `everyPercent` %, since a redrawn bar would fill a log with noise.
 */
export function progress(total: number, everyPercent = 10): Progress {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: '  {bar} {percentage}% | {value}/{total} requests | hit ratio {hitRatio} | {rate} req/s',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0, { hitRatio: '-', rate: '-' })
    return { update: (done, fields) => bar.update(done, fields), stop: () => bar.stop() }
  }
  let nextPercent = everyPercent
  return {
    update(done, fields) {
      const percent = Math.floor((done / total) * 100)
      if (percent < nextPercent) return
      nextPercent = (Math.floor(percent / everyPercent) + 1) * everyPercent
      console.log(`  ${String(percent).padStart(3)}%  ${done}/${total} requests, hit ratio ${fields.hitRatio}, ${fields.rate} req/s`)
    },
    stop() {},
  }
}
