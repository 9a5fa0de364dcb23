/**
 * The synthetic workload of the prefetch benchmark (issue 5 §3): per client,
 * a stream of episodes drawn from a fixed seed, each one of
 *
 * - a sequential run: `item:N`, `item:N+s`, … for 5–50 keys, step s of 1
 *   (most often), 2, or 3–5; runs start anywhere in 200,000 items, so most
 *   of their keys are new (only a load ahead can save their misses);
 * - a key chain: a fixed sequence for one entity, e.g. `user:42 → settings:42
 *   → feed:42`, the entity drawn Zipf(0.8) from 2,000 (by default), so
 *   chains recur;
 * - noise: 1–5 reads of `obj:<id>`, Zipf(0.9) over 20,000 keys, the ids
 *   scrambled so that they walk in no step.
 */
import { xorshift128, zipfSampler } from '../hitratio/traces.js'

export const CHAINS: readonly (readonly string[])[] = [
  ['user', 'settings', 'feed'],
  ['order', 'items', 'invoice', 'shipping'],
  ['product', 'reviews', 'related'],
]

export interface WorkloadSpec {
  clients: number
  perClient: number
  seed: number
  /** Episode probabilities: a run, a chain; noise takes the rest. */
  runEpisode: number
  chainEpisode: number
  /** Entities the chains are drawn from, and the Zipf skew of the draw. Default 2,000 and 0.8. */
  entities?: number
  entitySkew?: number
}

export interface Workload {
  spec: WorkloadSpec
  /** One request stream per client. */
  streams: string[][]
  requests: number
  distinct: number
  /** Share of the requests from runs, chains and noise. */
  shares: { run: number; chain: number; noise: number }
}

export const DEFAULT_WORKLOAD: WorkloadSpec = { clients: 8, perClient: 2_500, seed: 20_260_517, runEpisode: 0.09, chainEpisode: 0.48 }

export function makeWorkload(spec: WorkloadSpec): Workload {
  const random = xorshift128(spec.seed)
  const entity = zipfSampler(spec.entities ?? 2_000, spec.entitySkew ?? 0.8, random)
  const noise = zipfSampler(20_000, 0.9, random)
  const counts = { run: 0, chain: 0, noise: 0 }
  const streams: string[][] = []
  for (let c = 0; c < spec.clients; c++) {
    const stream: string[] = []
    const push = (key: string, kind: keyof typeof counts): void => {
      if (stream.length < spec.perClient) {
        stream.push(key)
        counts[kind]++
      }
    }
    while (stream.length < spec.perClient) {
      const u = random()
      if (u < spec.runEpisode) {
        const v = random()
        const step = v < 0.6 ? 1 : v < 0.85 ? 2 : 3 + Math.floor(random() * 3)
        const length = 5 + Math.floor(random() * 46)
        const start = Math.floor(random() * 200_000)
        for (let i = 0; i < length; i++) push(`item:${start + i * step}`, 'run')
      } else if (u < spec.runEpisode + spec.chainEpisode) {
        const chain = CHAINS[Math.floor(random() * CHAINS.length)]
        const id = entity()
        for (const part of chain) push(`${part}:${id}`, 'chain')
      } else {
        const reads = 1 + Math.floor(random() * 5)
        for (let i = 0; i < reads; i++) push(`obj:${Math.imul(noise(), 0x9e3779b1) >>> 0}`, 'noise')
      }
    }
    streams.push(stream)
  }
  const requests = spec.clients * spec.perClient
  const distinct = new Set(streams.flat()).size
  return {
    spec,
    streams,
    requests,
    distinct,
    shares: { run: counts.run / requests, chain: counts.chain / requests, noise: counts.noise / requests },
  }
}
