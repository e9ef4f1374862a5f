// Whose notifications changed: the streams watch a person, and every transaction that writes them a
// notification (a notice, an announcement) tells them once committed. In memory and per process,
// which is enough: a stream that missed a call (or reconnects) reads what is new from the database.
import { Watchers } from '@mart/shared'

/** Keyed by user id; `changed(userId)` after a commit that added one of their notifications. */
export class NotificationChanges extends Watchers {}
