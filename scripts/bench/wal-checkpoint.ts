// `bun scripts/bench/wal-checkpoint.ts [seconds=10] [commits per ms=1]`: steady commits on the event
// loop of a store that checkpoints in the background, as a service's: how long each commit took,
// and where the slow ones were in the WAL's life. SQLite's fallback checkpoint runs inside the
// commit that takes the WAL to 10,000 pages: `slowAt` lists commits over 5 ms as
// `ms@frames before->frames after/frames checkpointed` (after/after: the commit checkpointed; a
// small "after": it started the WAL over). The WAL index's header (-shm) gives the frames.
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '@mart/shared'
import { tempDir } from '@mart/shared/testing'

const seconds = Number(process.argv[2] ?? 10)
const perMs = Number(process.argv[3] ?? 1)
const tmp = tempDir('wal-checkpoint-')
const file = join(tmp.dir, 'bench.db')
const store = openStore({ file, source: 'bench', backgroundCheckpointMs: 250 })
store.sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB); CREATE INDEX t_v ON t (v)')
const insert = store.sqlite.prepare('INSERT INTO t (v) VALUES (?)')
// Three rows with an index: about as many pages a commit as the services' transactions write.
const commit = store.sqlite.transaction(() => {
  for (let i = 0; i < 3; i++) insert.run(Buffer.alloc(600, Math.random() * 255))
})
const wal = () => {
  const b = readFileSync(`${file}-shm`).subarray(0, 100)
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return { frames: v.getUint32(16, true), copied: v.getUint32(96, true) }
}

const times: number[] = []
const slowAt: string[] = []
let slowMs = 0
let most = 0
let restarts = 0
let atFallback = 0
let previous = 0
const end = performance.now() + seconds * 1000
while (performance.now() < end) {
  for (let k = 0; k < perMs; k++) {
    const before = wal().frames
    const started = performance.now()
    commit()
    const ms = performance.now() - started
    times.push(ms)
    if (ms > 5) {
      const after = wal()
      slowMs += ms
      slowAt.push(`${Math.round(ms)}ms@${before}->${after.frames}/${after.copied}`)
    }
  }
  const { frames } = wal()
  if (frames < previous) {
    restarts++
    if (previous >= 10_000) atFallback++
  }
  previous = frames
  most = Math.max(most, frames)
  await Bun.sleep(1)
}
const walFileMiB = Number((statSync(`${file}-wal`).size / 1048576).toFixed(1))
store.close()
times.sort((a, b) => a - b)
const q = (p: number) => Number((times[Math.floor(p * (times.length - 1))] ?? 0).toFixed(3))
console.log(
  JSON.stringify({
    commits: times.length,
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    max: q(1),
    over5ms: slowAt.length,
    msInThem: Math.round(slowMs),
    walMostFrames: most,
    restarts,
    restartsAtFallback: atFallback,
    walFileMiB,
    slowAt,
  }),
)
tmp.cleanup()
