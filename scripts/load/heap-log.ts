// What heap-watch.ts wrote during a run (LOAD_HEAP_LOG), read back for the report.
import { existsSync, readFileSync } from 'node:fs'

export interface HeapSample {
  at: number
  heapMiB: number
  objects: number
  extraMiB: number
  rssMiB: number
}

/** The samples in `file` taken from `since` (ms since the epoch) on: the measured part of the run. */
export function readHeapLog(file: string, since: number): HeapSample[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HeapSample)
    .filter((s) => s.at >= since)
}

/** One line: the heap after a full collection at the first and last samples, and its range. */
export function heapText(samples: HeapSample[]): string {
  const first = samples[0]
  const last = samples.at(-1)
  if (!first || !last)
    return 'JS heap after a full collection: no sample (a run shorter than LOAD_HEAP_EVERY?)'
  const range = (f: (s: HeapSample) => number) =>
    `${Math.min(...samples.map(f))}-${Math.max(...samples.map(f))}`
  const minutes = ((last.at - first.at) / 60_000).toFixed(1)
  return (
    `JS heap after a full collection, ${samples.length} samples over ${minutes} min: ` +
    `first ${first.heapMiB} MiB (${first.objects} objects), last ${last.heapMiB} MiB (${last.objects} objects), ` +
    `range ${range((s) => s.heapMiB)} MiB; outside the heap ${range((s) => s.extraMiB)} MiB; ` +
    `RSS then ${range((s) => s.rssMiB)} MiB`
  )
}
