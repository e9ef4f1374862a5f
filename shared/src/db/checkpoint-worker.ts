// Runs in one worker thread per process: checkpoints the WAL of every registered database in the
// background, so that the fsyncs a checkpoint costs never pause a service's event loop.
// It must use the same SQLite library as the writer (better-sqlite3's, loaded once per process):
// SQLite coordinates connections inside one process through its own in-memory lock table, because
// POSIX locks never conflict within a process. A second copy (Bun's built-in bun:sqlite) cannot
// see the writer's locks, believes it is alone, truncates the shared WAL index under the writer's
// mapping and crashes the process with SIGBUS (and could corrupt the database before that).
// One long-lived worker: Bun 1.4.5 crashed loading the addon in many short-lived ones.
//
// A PASSIVE checkpoint never blocks the writer, but SQLite only starts the WAL over when a writer
// begins a transaction and finds every frame checkpointed; under steady commits one lands during
// nearly every pass, so the WAL grows to the writer's fallback (`wal_autocheckpoint`) and the writer
// checkpoints on its own thread: it copies and fsyncs whatever this thread has not copied yet (up to
// a whole interval of commits: tens of ms on a busy disk, 150 ms measured). Past `catchUpAbove`
// pages this thread checkpoints every CATCH_UP_MS instead, so that when the fallback comes, the
// writer finds almost everything copied and synced, and its checkpoint is a few pages. Once the WAL
// is past the fallback it pauses a round: the writer's checkpoint finds this thread's lock taken
// and gives up (cheaply) while a pass runs, and must find a gap to start the WAL over.
import Database from 'better-sqlite3'

declare const self: Worker

type Message =
  | { op: 'add'; file: string; intervalMs: number; catchUpAbove?: number; fallback?: number }
  | { op: 'remove'; file: string }

const CATCH_UP_MS = 5

interface Entry {
  db: Database.Database
  timer: ReturnType<typeof setTimeout> | undefined
  refs: number
}

// Counted: two stores of one process may open the same file.
const open = new Map<string, Entry>()

/** Frames in the WAL after a PASSIVE checkpoint (0 when busy or unknown). */
function checkpoint(db: Database.Database): number {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number }[]
    return row?.log ?? 0
  } catch {
    // Busy: the next round, or the writer's own fallback checkpoint, catches up.
    return 0
  }
}

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
    const entry: Entry = { db, timer: undefined, refs: 1 }
    const catchUpAbove = m.catchUpAbove ?? Number.POSITIVE_INFINITY
    const fallback = m.fallback ?? Number.POSITIVE_INFINITY
    const round = () => {
      const frames = checkpoint(db)
      if (open.get(m.file) !== entry) return
      const catchingUp = frames >= catchUpAbove && frames < fallback
      entry.timer = setTimeout(round, catchingUp ? Math.min(CATCH_UP_MS, m.intervalMs) : m.intervalMs)
    }
    entry.timer = setTimeout(round, m.intervalMs)
    open.set(m.file, entry)
  } else {
    const entry = open.get(m.file)
    if (!entry || --entry.refs > 0) return
    clearTimeout(entry.timer)
    entry.db.close()
    open.delete(m.file)
  }
}
