import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { checkpointInBackground } from '../db/open.ts'
import { makePrivateDatabase, makePrivateDir } from '../private-files.ts'
import type { BusMessage } from './types.ts'

/** A message as the journal keeps it: where it sits in its partition. */
export interface JournalMessage extends BusMessage {
  partition: number
  offset: number
}

/** A consumer group's next offset in one partition (Kafka's committed offset). */
export interface JournalCursor {
  group: string
  topic: string
  partition: number
  next: number
}

/** What a restarted memory bus resumes from. */
export interface JournalContents {
  /** Partition count per topic, as the topic was created. */
  topics: Map<string, number>
  /** Every message some group has not consumed yet, in offset order per partition. */
  messages: JournalMessage[]
  cursors: JournalCursor[]
}

type TrimPoint = { topic: string; partition: number; offset: number }
type StoredMessage = Omit<JournalMessage, 'headers'> & { headers: string }
const decode = (r: StoredMessage): JournalMessage => ({
  ...r,
  headers: JSON.parse(r.headers) as Record<string, string>,
})

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS bus_topics (
    topic TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS bus_messages (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    headers TEXT NOT NULL,
    appended_at INTEGER NOT NULL,
    PRIMARY KEY (topic, partition, offset)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS bus_cursors (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition)
  ) STRICT, WITHOUT ROWID;
`

/**
 * The memory bus's log on disk, so that the embedded mode keeps the outbox's promise: a message
 * is appended (committed) before `publish` resolves and the relay marks its row sent, and stays
 * until every consumer group has moved past it and it is older than the retention (a group that
 * appears later reads it, as from Kafka's retained log). Group cursors are saved in batches, like
 * Kafka's offset commits; what a crash forgets is delivered again and the inboxes absorb it.
 */
export class MemoryJournal {
  private readonly sqlite: Database.Database
  private readonly stopCheckpoints: () => void
  private readonly statements

  private readonly releaseLock: () => void
  private readonly appendAll: (messages: JournalMessage[], now: number) => void
  private readonly commitAll: (cursors: JournalCursor[], trimBelow: TrimPoint[], expired: number) => void

  constructor(
    readonly file: string,
    private readonly retentionMs: number,
  ) {
    makePrivateDir(dirname(file))
    this.releaseLock = ownExclusively(`${file}.lock`)
    makePrivateDatabase(file)
    this.sqlite = new Database(file)
    this.sqlite.pragma('journal_mode = WAL')
    // As for the services' own databases: a commit survives a crash of the process.
    this.sqlite.pragma('synchronous = NORMAL')
    this.sqlite.pragma('busy_timeout = 5000')
    this.sqlite.exec(SCHEMA)
    this.stopCheckpoints = checkpointInBackground(this.sqlite, file, 250)
    const s = this.sqlite
    this.statements = {
      topic: s.prepare('INSERT INTO bus_topics (topic, partitions) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      append: s.prepare(
        `INSERT INTO bus_messages (topic, partition, offset, key, value, headers, appended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      history: s.prepare(
        `SELECT topic, partition, offset, key, value, headers FROM bus_messages
         WHERE topic = ? AND partition = ? AND offset < ? ORDER BY offset`,
      ),
      cursor: s.prepare(
        `INSERT INTO bus_cursors (grp, topic, partition, next_offset) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET next_offset = excluded.next_offset`,
      ),
      trim: s.prepare(
        'DELETE FROM bus_messages WHERE topic = ? AND partition = ? AND offset < ? AND appended_at < ?',
      ),
    }
    // Built once: publish is on every event's path.
    const { append, cursor, trim } = this.statements
    this.appendAll = s.transaction((messages: JournalMessage[], now: number) => {
      for (const m of messages) {
        append.run(m.topic, m.partition, m.offset, m.key, m.value, JSON.stringify(m.headers), now)
      }
    })
    this.commitAll = s.transaction((cursors: JournalCursor[], trimBelow: TrimPoint[], expired: number) => {
      for (const c of cursors) cursor.run(c.group, c.topic, c.partition, c.next)
      for (const t of trimBelow) trim.run(t.topic, t.partition, t.offset, expired)
    })
  }

  read(): JournalContents {
    const topics = new Map(
      (
        this.sqlite.prepare('SELECT topic, partitions FROM bus_topics').all() as {
          topic: string
          partitions: number
        }[]
      ).map((r) => [r.topic, r.partitions]),
    )
    // What every group has consumed stays on disk only; `history` brings it back for a new group.
    const messages = (
      this.sqlite
        .prepare(
          `SELECT topic, partition, offset, key, value, headers FROM bus_messages m
           WHERE offset >= coalesce(
             (SELECT min(next_offset) FROM bus_cursors c WHERE c.topic = m.topic AND c.partition = m.partition), 0)
           ORDER BY topic, partition, offset`,
        )
        .all() as StoredMessage[]
    ).map(decode)
    const cursors = this.sqlite
      .prepare('SELECT grp AS "group", topic, partition, next_offset AS next FROM bus_cursors')
      .all() as JournalCursor[]
    return { topics, messages, cursors }
  }

  /** The retained messages of a partition below `offset`, oldest first. */
  history(topic: string, partition: number, offset: number): JournalMessage[] {
    return (this.statements.history.all(topic, partition, offset) as StoredMessage[]).map(decode)
  }

  /** Records a topic's partition count the first time it is created; later counts are ignored. */
  addTopic(topic: string, partitions: number): void {
    this.statements.topic.run(topic, partitions)
  }

  /** Appends messages in one transaction: all of them are durable when this returns, or none. */
  append(messages: JournalMessage[]): void {
    this.appendAll(messages, Date.now())
  }

  /**
   * Saves group cursors and drops the messages below `trimBelow` (per `topic/partition`: what every
   * group has consumed) that are older than the retention, in one transaction.
   */
  commit(cursors: JournalCursor[], trimBelow: TrimPoint[]): void {
    this.commitAll(cursors, trimBelow, Date.now() - this.retentionMs)
  }

  close(): void {
    this.stopCheckpoints()
    this.sqlite.close()
    this.releaseLock()
  }
}

/**
 * The messages of one topic in a journal, oldest first per partition, read without owning it: a
 * running marketplace keeps its journal open, and WAL lets another process read alongside.
 */
export function readJournalTopic(file: string, topic: string): JournalMessage[] {
  if (!existsSync(file)) return []
  const sqlite = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const rows = sqlite
      .prepare(
        'SELECT topic, partition, offset, key, value, headers FROM bus_messages WHERE topic = ? ORDER BY partition, offset',
      )
      .all(topic) as StoredMessage[]
    return rows.map(decode)
  } finally {
    sqlite.close()
  }
}

/**
 * One process per journal: offsets live in the process's memory, so a second process appending to
 * the same file would collide with the first and stall its relays. A lock file holds the owner's
 * pid; a lock whose process is gone (killed with -9) is taken over.
 */
function ownExclusively(lockFile: string): () => void {
  for (let attempt = 0; ; attempt++) {
    try {
      // The pid says who owns it; the token, which of this process's journals (tests open several).
      const mine = `${process.pid} ${crypto.randomUUID()}`
      const fd = openSync(lockFile, 'wx', 0o600)
      writeSync(fd, mine)
      closeSync(fd)
      return () => {
        if (contentOf(lockFile) === mine) unlinkSync(lockFile)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
      const owner = ownerOf(lockFile)
      if (owner !== undefined && isAlive(owner)) {
        throw new Error(
          `${lockFile.slice(0, -'.lock'.length)} is in use by process ${owner}: is Mart already running on this DATA_DIR?`,
        )
      }
      unlinkSync(lockFile)
    }
  }
}

function contentOf(lockFile: string): string | undefined {
  try {
    return readFileSync(lockFile, 'utf8')
  } catch {
    return undefined
  }
}

function ownerOf(lockFile: string): number | undefined {
  const pid = Number(contentOf(lockFile)?.split(' ')[0])
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
