// What Mart keeps under DATA_DIR (password and token hashes, events, keys) is for the user running
// it only: directories it creates are 0700, files 0600, whatever the umask.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Creates `dir` and any missing parent 0700. A directory that already exists keeps its mode: it
 * is the operator's (DATA_DIR=/srv/shared), and what Mart puts in it is private anyway.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
}

/** Creates `file` (and its directory) 0600 if it does not exist, and tightens it to 0600 if it does. */
export function makePrivateFile(file: string): void {
  makePrivateDir(dirname(file))
  closeSync(openSync(file, 'a', 0o600))
  chmodSync(file, 0o600)
}

/**
 * Makes the SQLite database `file` private before it is opened: the file is created 0600 (SQLite
 * creates its -wal and -shm with the mode of the database file) and an existing one, with its
 * -wal and -shm, is tightened to 0600.
 */
export function makePrivateDatabase(file: string): void {
  makePrivateFile(file)
  for (const companion of [`${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(companion, 0o600)
    } catch (err) {
      // Not there (yet, or any more: the last connection to close removes the WAL).
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
}
