import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '../src/index.ts'
import { tempDir, waitFor } from '../src/testing.ts'

describe('service database', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('opens with WAL, NORMAL sync, foreign keys and a busy timeout, and applies the platform migrations', () => {
    const store = openStore({ file: join(tmp.dir, 'svc.db'), source: 'svc' })
    const pragma = (p: string) => store.sqlite.pragma(p, { simple: true })
    expect(pragma('journal_mode')).toBe('wal')
    expect(pragma('synchronous')).toBe(1) // NORMAL
    expect(pragma('foreign_keys')).toBe(1)
    expect(pragma('busy_timeout')).toBe(5000)
    const tables = store.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    expect(tables.map((t) => (t as { name: string }).name)).toEqual(
      expect.arrayContaining(['mart_outbox', 'mart_inbox']),
    )
    store.close()
    // Reopening migrates nothing twice.
    openStore({ file: join(tmp.dir, 'svc.db'), source: 'svc' }).close()
  })

  test('checkpoints the WAL from a worker thread, not from the committing thread', async () => {
    const file = join(tmp.dir, 'svc.db')
    const store = openStore({ file, source: 'svc', backgroundCheckpointMs: 20 })
    store.sqlite.exec('CREATE TABLE t (v TEXT)')
    const sizeBefore = statSync(file).size
    const insert = store.sqlite.prepare('INSERT INTO t (v) VALUES (?)')
    // Far fewer pages than the writer's fallback threshold: only the worker can move them.
    for (let i = 0; i < 200; i++) insert.run('x'.repeat(1000))
    await waitFor(() => statSync(file).size > sizeBefore + 100_000, 'the worker to checkpoint', 5000)
    store.close()
  })

  test("under steady writes the WAL stays bounded, and the writer's fallback checkpoint finds nearly every page already copied", async () => {
    // A PASSIVE checkpoint rarely finishes between two commits, so under steady writes the WAL only
    // starts over at the writer's fallback (`wal_autocheckpoint`); the worker must have copied and
    // synced nearly all of it by then, or the writer copies the rest on its own thread: a pause of
    // the event loop. Thresholds scaled down (the stores use 5,000 and 10,000 pages). The
    // WAL index's header (-shm) says how far each is: mxFrame at byte 16, nBackfill at byte 96.
    const worker = new Worker(new URL('../src/db/checkpoint-worker.ts', import.meta.url))
    const file = join(tmp.dir, 'svc.db')
    const store = openStore({ file, source: 'svc' })
    try {
      store.sqlite.pragma('wal_autocheckpoint = 3000')
      store.sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)')
      worker.postMessage({ op: 'add', file, intervalMs: 250, catchUpAbove: 300, fallback: 3000 })
      const insert = store.sqlite.prepare('INSERT INTO t (v) VALUES (?)')
      const write = store.sqlite.transaction(() => {
        for (let i = 0; i < 8; i++) insert.run(Buffer.alloc(3000, i))
      })
      const wal = () => {
        const b = readFileSync(`${file}-shm`).subarray(0, 100)
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
        return { frames: v.getUint32(16, true), copied: v.getUint32(96, true) }
      }
      let most = 0
      let restarts = 0
      const leftToWriter: number[] = []
      // About 20,000 pages, a commit of 8 at a time with a pause after each: six fallbacks' worth.
      for (let round = 0; round < 2500; round++) {
        const before = wal()
        write()
        const after = wal()
        most = Math.max(most, after.frames)
        if (after.frames < before.frames) restarts++
        // This commit crossed the fallback and the writer checkpointed: what the worker had not.
        if (before.frames < 3000 && after.frames >= 3000 && after.copied === after.frames) {
          leftToWriter.push(after.frames - before.copied)
        }
        await Bun.sleep(1)
      }
      expect(restarts).toBeGreaterThanOrEqual(3)
      // A little past the fallback at most: the writer's checkpoint gives up while a pass runs.
      expect(most).toBeLessThan(4500)
      // Checkpointing every 250 ms, the worker left the writer most of the WAL (the fallback comes
      // within one interval); catching up every few ms, a few commits' pages.
      leftToWriter.sort((a, b) => a - b)
      const median = leftToWriter[Math.floor(leftToWriter.length / 2)] ?? 0
      expect(median).toBeLessThan(250)
      worker.postMessage({ op: 'remove', file })
    } finally {
      store.close()
      worker.terminate()
    }
  })

  test('a database the checkpoint thread cannot open (its directory already gone) does not stop it checkpointing the others', async () => {
    // A store opened and removed at once (a service that failed to start, a test's temp dir)
    // reaches the thread after its directory is gone: that must not end the thread.
    const worker = new Worker(new URL('../src/db/checkpoint-worker.ts', import.meta.url))
    try {
      worker.postMessage({ op: 'add', file: join(tmp.dir, 'gone', 'svc.db'), intervalMs: 20 })
      const file = join(tmp.dir, 'svc.db')
      const store = openStore({ file, source: 'svc' })
      store.sqlite.pragma('wal_autocheckpoint = 0')
      store.sqlite.exec('CREATE TABLE t (v TEXT)')
      const sizeBefore = statSync(file).size
      const insert = store.sqlite.prepare('INSERT INTO t (v) VALUES (?)')
      for (let i = 0; i < 200; i++) insert.run('x'.repeat(1000))
      worker.postMessage({ op: 'add', file, intervalMs: 20 })
      await waitFor(() => statSync(file).size > sizeBefore + 100_000, 'the thread to checkpoint', 3000)
      worker.postMessage({ op: 'remove', file })
      store.close()
    } finally {
      worker.terminate()
    }
  })

  test("the checkpoint worker shares the writer's locks: churning stores under constant checkpoints loses nothing", async () => {
    // A second SQLite library in the same process (say, the runtime's built-in one) cannot see the
    // writer's POSIX locks, resets the shared WAL index under it and crashes the process with SIGBUS.
    const stores = 60
    const rowsPerStore = 100
    const child = Bun.spawn(
      [
        'bun',
        join(import.meta.dir, 'fixtures', 'checkpoint-churn.ts'),
        tmp.dir,
        `${stores}`,
        `${rowsPerStore}`,
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited])
    expect({ code, signal: child.signalCode }).toEqual({ code: 0, signal: null })
    // Each store is written by every iteration while it is among the last five opened.
    const expected = Array.from({ length: stores }, (_, i) => Math.min(5, stores - i) * rowsPerStore).reduce(
      (a, b) => a + b,
    )
    expect(JSON.parse(out)).toEqual({ rows: expected })
  })
})
