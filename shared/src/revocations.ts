import type { Handlers } from './bus/consumer.ts'
import { perStore, type Store } from './db/open.ts'
import type { Tx } from './db/outbox.ts'
import type { EventData, EventType } from './events/index.ts'

export type SessionsRevoked = EventData<'user.sessions_revoked'>

/** The events every service consumes for its auth layer (see `Revocations.handlers`). */
export const revocationEvents = ['user.sessions_revoked'] as const satisfies readonly EventType[]

/** One user's revocation, in milliseconds since the epoch. */
export interface Revocation {
  userId: string
  /** Tokens issued at or before this instant are refused. */
  notBefore: number
  /** Every token it refuses has expired by then: the row may go. */
  expiresAt: number
}

const statementsOf = perStore((store: Store) => {
  const { sqlite } = store
  return {
    // A later revocation wins; an older one arriving late (a redrive) changes nothing.
    upsert: sqlite.prepare(
      `INSERT INTO mart_revocations (user_id, not_before, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET
         not_before = max(not_before, excluded.not_before),
         expires_at = max(expires_at, excluded.expires_at)`,
    ),
    live: sqlite.prepare<[number], { userId: string; notBefore: number; expiresAt: number }>(
      'SELECT user_id AS userId, not_before AS notBefore, expires_at AS expiresAt FROM mart_revocations WHERE expires_at > ?',
    ),
    prune: sqlite.prepare('DELETE FROM mart_revocations WHERE expires_at <= ?'),
  }
})

/**
 * The users whose older access tokens this service refuses, from `user.sessions_revoked`. Rows live
 * in the service's own database (they survive a restart); a copy in memory answers each request
 * without a query. Entries are forgotten once every token they refuse has expired.
 */
export class Revocations {
  private readonly byUser = new Map<string, Revocation>()

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {
    for (const r of statementsOf(store).live.all(this.now())) this.byUser.set(r.userId, r)
  }

  /** Records `r` in `t`'s transaction; requests see it once that commits. */
  record(t: Tx, r: Revocation): void {
    statementsOf(this.store).upsert.run(r.userId, r.notBefore, r.expiresAt)
    t.afterCommit(() => {
      const known = this.byUser.get(r.userId)
      this.byUser.set(r.userId, {
        userId: r.userId,
        notBefore: Math.max(r.notBefore, known?.notBefore ?? 0),
        expiresAt: Math.max(r.expiresAt, known?.expiresAt ?? 0),
      })
    })
  }

  /** The instant at or before which `userId`'s tokens are refused, if any. */
  notBeforeOf(userId: string): number | undefined {
    const r = this.byUser.get(userId)
    if (!r) return undefined
    if (r.expiresAt <= this.now()) {
      this.byUser.delete(userId)
      return undefined
    }
    return r.notBefore
  }

  /** True when a token of `userId` issued at `issuedAt` (ms) must be refused. */
  refuses(userId: string, issuedAt: number): boolean {
    const notBefore = this.notBeforeOf(userId)
    return notBefore !== undefined && issuedAt <= notBefore
  }

  /** Forgets revocations whose tokens have all expired; answers how many rows went. */
  prune(): number {
    const now = this.now()
    for (const [userId, r] of this.byUser) if (r.expiresAt <= now) this.byUser.delete(userId)
    return statementsOf(this.store).prune.run(now).changes
  }

  /** What every service's consumer does with the event (the platform adds it to each service's handlers). */
  readonly handlers: Required<Pick<Handlers<never>, (typeof revocationEvents)[number]>> = {
    'user.sessions_revoked': (event, t) => this.record(t as Tx, fromEvent(event.data)),
  }
}

export const fromEvent = (d: SessionsRevoked): Revocation => ({
  userId: d.userId,
  notBefore: Date.parse(d.notBefore),
  expiresAt: Date.parse(d.expiresAt),
})

export const toEvent = (r: Revocation, reason: SessionsRevoked['reason']): SessionsRevoked => ({
  userId: r.userId,
  notBefore: new Date(r.notBefore).toISOString(),
  expiresAt: new Date(r.expiresAt).toISOString(),
  reason,
})
