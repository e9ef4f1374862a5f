import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
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
