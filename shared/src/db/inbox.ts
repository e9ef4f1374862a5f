import { perStore, type Store } from './open.ts'

export const inboxStatements = perStore((store: Store) => ({
  record: store.sqlite.prepare(
    'INSERT OR IGNORE INTO mart_inbox (consumer, event_id, topic, received_at) VALUES (?, ?, ?, ?)',
  ),
  purge: store.sqlite.prepare('DELETE FROM mart_inbox WHERE received_at < ?'),
}))

/**
 * Records that `consumer` applied `eventId`. Call it inside the handler's transaction: it returns
 * false when the event was applied before, and the handler must then change nothing.
 */
export function recordInbox(store: Store, consumer: string, eventId: string, topic: string): boolean {
  return inboxStatements(store).record.run(consumer, eventId, topic, Date.now()).changes === 1
}
