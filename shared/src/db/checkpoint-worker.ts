// Runs in a worker thread: checkpoints one WAL database in the background, so that the fsyncs a
// checkpoint costs never pause the service's event loop.
import Database from 'better-sqlite3'

declare const self: Worker

self.onmessage = (e: MessageEvent<{ file: string; intervalMs: number }>) => {
  const { file, intervalMs } = e.data
  const db = new Database(file)
  db.pragma('busy_timeout = 1000')
  const checkpoint = () => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // Busy or closing: the next round (or the writer's own auto-checkpoint) catches up.
    }
  }
  const timer = setInterval(checkpoint, intervalMs)
  self.onmessage = () => {
    clearInterval(timer)
    checkpoint()
    db.close()
    self.postMessage('closed')
  }
  self.postMessage('ready')
}
