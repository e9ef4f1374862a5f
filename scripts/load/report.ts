// What a result says besides its figures: the machine (CPU, cores, memory, load), the versions, the
// mode and the settings; and the figures as a table for people or JSON for scripts.
import { readFileSync } from 'node:fs'
import { loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { cpuModel } from '../bench/stats.ts'
import { root } from '../services.ts'
import type { Summary } from './histogram.ts'

export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  bun: string
  kafka: string | null
  /** The 1, 5 and 15 minute load averages when the run started: other work on the machine. */
  loadAverage: number[]
  commit: string | null
}

/** The broker version `bun run kafka` runs (scripts/kafka/pom.xml), when Kafka is in play. */
function kafkaVersion(): string | null {
  try {
    const pom = readFileSync(join(root, 'scripts', 'kafka', 'pom.xml'), 'utf8')
    return pom.match(/<artifactId>kafka_[\d.]+<\/artifactId>\s*<version>([^<]+)<\/version>/)?.[1] ?? null
  } catch {
    return null
  }
}

export function machine(withKafka: boolean): Machine {
  const git = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: root, stderr: 'ignore' })
  return {
    cpu: cpuModel(),
    cores: navigator.hardwareConcurrency,
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    os: `${process.platform}/${process.arch}`,
    bun: Bun.version,
    kafka: withKafka ? kafkaVersion() : null,
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    commit: git.exitCode === 0 ? git.stdout.toString().trim() : null,
  }
}

export const machineText = (m: Machine) =>
  `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB memory, ${m.os}; bun ${m.bun}` +
  `${m.kafka ? `, Kafka ${m.kafka}` : ''}; load average ${m.loadAverage.join(' ')} at the start; commit ${m.commit ?? '?'}`

const ms = (x: number) =>
  Number.isNaN(x) ? '-' : x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(1) : x.toFixed(0)

/** A Markdown table of the metrics, the headline first. */
export function metricsTable(metrics: Record<string, Summary>, headline: string): string {
  const names = [headline, ...Object.keys(metrics).filter((k) => k !== headline)].filter((k) => metrics[k])
  const rows = names.map((k) => {
    const s = metrics[k] as Summary
    return `| ${k} | ${s.count} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} |`
  })
  return [
    '| latency from the scheduled start | count | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n')
}

export const errorsText = (errors: Record<string, number>) =>
  Object.keys(errors).length === 0
    ? 'errors: none'
    : `errors: ${Object.entries(errors)
        .map(([k, n]) => `${k}: ${n}`)
        .join(', ')}`

export const notesText = (notes: Record<string, number>) =>
  Object.entries(notes)
    .map(([k, n]) => `note: ${k}: ${n}`)
    .join('\n')

export const fixed = ms
