// Runs in one worker thread per process: checkpoints the WAL of every registered database in the
// background, so that the fsyncs a checkpoint costs never pause a service's event loop.
// It must use the same SQLite library as the writer (better-sqlite3's, loaded once per process):
// SQLite coordinates connections inside one process through its own in-memory lock table, because
// POSIX locks never conflict within a process. A second copy (Bun's built-in bun:sqlite) cannot
// see the writer's locks, believes it is alone, truncates the shared WAL index under the writer's
// mapping and crashes the process with SIGBUS (and could corrupt the database before that).
// One long-lived worker: Bun 1.4.5 crashed loading the addon in many short-lived ones.
import Database from 'better-sqlite3'

declare const self: Worker

type Message = { op: 'add'; file: string; intervalMs: number } | { op: 'remove'; file: string }

// Counted: two stores of one process may open the same file.
const open = new Map<string, { db: Database.Database; timer: ReturnType<typeof setInterval>; refs: number }>()

self.onmessage = (e: MessageEvent<Message>) => {
  const m = e.data
  if (m.op === 'add') {
    const known = open.get(m.file)
    if (known) {
      known.refs++
      return
    }
    let db: Database.Database
    try {
      db = new Database(m.file)
    } catch {
      // Gone before it got here (a store opened and removed at once): an error thrown here would
      // end the thread, and with it the checkpoints of every other database of the process.
      return
    }
    db.pragma('busy_timeout = 1000')
    const timer = setInterval(() => {
      try {
        db.pragma('wal_checkpoint(PASSIVE)')
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
