import { audit, type Logger } from '@mart/shared'
import type { UserRow } from './users.ts'

/** Who did it: the user behind the request and the client address it came from. */
export interface Actor {
  actor: string
  address: string
}

/**
 * The audit lines a change to an account means, from the account before and after it: a new
 * password or email, a role changed from one to another, the account disabled or enabled. Only
 * what changed is named; never its value where that is a secret (or a person's email).
 */
export function auditChange(log: Logger, by: Actor, before: UserRow, after: UserRow): void {
  const fields = { ...by, target: after.id }
  if (after.passwordHash !== before.passwordHash) audit(log, 'password.changed', fields)
  if (after.email !== before.email) audit(log, 'email.changed', fields)
  if (after.role !== before.role) {
    audit(log, 'user.role_changed', { ...fields, from: before.role, to: after.role })
  }
  if (after.disabled !== before.disabled)
    audit(log, after.disabled ? 'user.disabled' : 'user.enabled', fields)
}

/** An account deleted by an admin. */
export const auditDeletion = (log: Logger, by: Actor, deleted: UserRow) =>
  audit(log, 'user.deleted', { ...by, target: deleted.id, role: deleted.role })
