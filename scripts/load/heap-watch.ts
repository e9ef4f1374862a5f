// Preloaded into the marketplace's process when a load run has LOAD_HEAP_LOG=<file> (`bun
// --preload`): every LOAD_HEAP_EVERY seconds (30), a full garbage collection, then what is left,
// as a JSON line: the JS heap (MiB and objects), the memory the heap holds outside itself (buffers,
// blobs), and the process's RSS. RSS alone saws with the collector's schedule; the heap after a
// full collection is what grows when something is kept that should not be. main.ts summarises it.

import { heapStats } from 'bun:jsc'
import { appendFileSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'

const out = process.env.LOAD_HEAP_LOG
const everyMs = Number(process.env.LOAD_HEAP_EVERY ?? 30) * 1000

if (out && isMainThread) {
  const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10
  setInterval(() => {
    Bun.gc(true)
    const heap = heapStats()
    const line = {
      at: Date.now(),
      heapMiB: mib(heap.heapSize),
      objects: heap.objectCount,
      extraMiB: mib(heap.extraMemorySize),
      rssMiB: mib(process.memoryUsage.rss()),
    }
    appendFileSync(out, `${JSON.stringify(line)}\n`)
  }, everyMs).unref()
}
