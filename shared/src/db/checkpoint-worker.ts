// Runs in one worker thread per process: checkpoints the WAL of every registered database in the
// background, so that the fsyncs a checkpoint costs never pause a service's event loop.
// It uses Bun's built-in SQLite: any connection may checkpoint a WAL file, and a built-in driver
// keeps native-addon loading out of worker threads (Bun 1.4.5 can crash loading N-API addons in
// short-lived workers).
import { Database } from 'bun:sqlite'

declare const self: Worker

type Message = { op: 'add'; file: string; intervalMs: number } | { op: 'remove'; file: string }

// Counted: two stores of one process may open the same file.
const open = new Map<string, { db: Database; timer: ReturnType<typeof setInterval>; refs: number }>()

self.onmessage = (e: MessageEvent<Message>) => {
  const m = e.data
  if (m.op === 'add') {
    const known = open.get(m.file)
    if (known) {
      known.refs++
      return
    }
    const db = new Database(m.file)
    db.exec('PRAGMA busy_timeout = 1000')
    const timer = setInterval(() => {
      try {
        db.exec('PRAGMA wal_checkpoint(PASSIVE)')
      } catch {
        // Busy: the next round, or the writer's own fallback checkpoint, catches up.
      }
    }, m.intervalMs)
    open.set(m.file, { db, timer, refs: 1 })
  } else {
    const entry = open.get(m.file)
    if (!entry || --entry.refs > 0) return
    clearInterval(entry.timer)
    entry.db.close()
    open.delete(m.file)
  }
}
