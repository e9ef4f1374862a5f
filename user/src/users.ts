import {
  conflict,
  cursorCodec,
  HttpProblem,
  notFound,
  type Principal,
  type Revocations,
  type Role,
  requestContext,
  type SessionsRevoked,
  type Store,
  type TraceContext,
  type Tx,
  toEvent,
  tx,
  unauthorized,
  validationProblem,
} from '@mart/shared'
import { Type } from '@sinclair/typebox'
import { and, asc, count, eq, gt, isNull, or, sql } from 'drizzle-orm'
import type * as schema from './db/schema.ts'
import { refreshTokens, users } from './db/schema.ts'
import { hashRefreshToken, newRefreshToken } from './tokens.ts'

type Db = Store<typeof schema>
type UserRow = typeof users.$inferSelect

export interface UserView {
  id: string
  username: string
  email: string
  role: Role
  disabled: boolean
  createdAt: string
}

export const view = (u: UserRow): UserView => ({
  id: u.id,
  username: u.username,
  email: u.email,
  role: u.role,
  disabled: u.disabled,
  createdAt: new Date(u.createdAt).toISOString(),
})

const snapshot = (u: UserRow) => ({
  id: u.id,
  username: u.username,
  email: u.email,
  role: u.role,
  disabled: u.disabled,
})

export interface PasswordCost {
  memoryCost: number
  timeCost: number
}

/** The user accounts and their refresh-token families; every change emits its event in the same commit. */
export class Users {
  // Verified against when the account does not exist, so a wrong username costs as long as a
  // wrong password: the timing says nothing about which accounts exist.
  private readonly decoy: string

  constructor(
    private readonly store: Db,
    private readonly cost: PasswordCost,
    private readonly refreshTtlMs: number,
    private readonly sessions: { revocations: Revocations; accessTtlMs: number },
  ) {
    this.decoy = Bun.password.hashSync(crypto.randomUUID(), { algorithm: 'argon2id', ...cost })
  }

  hashPassword = (password: string) => Bun.password.hash(password, { algorithm: 'argon2id', ...this.cost })
  hashPasswordSync = (password: string) =>
    Bun.password.hashSync(password, { algorithm: 'argon2id', ...this.cost })

  byId(id: string): UserRow | undefined {
    return this.store.db.select().from(users).where(eq(users.id, id)).get()
  }

  /** By username or email, case-insensitively. */
  byLogin(login: { username?: string; email?: string }): UserRow | undefined {
    const cond = login.email
      ? sql`lower(${users.email}) = lower(${login.email})`
      : sql`lower(${users.username}) = lower(${login.username ?? ''})`
    return this.store.db.select().from(users).where(cond).get()
  }

  private taken(username: string, email: string, except?: string): void {
    const clash = this.store.db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(
        and(
          or(
            sql`lower(${users.username}) = lower(${username})`,
            sql`lower(${users.email}) = lower(${email})`,
          ),
          except ? sql`${users.id} <> ${except}` : undefined,
        ),
      )
      .get()
    if (clash) {
      throw conflict(
        clash.username.toLowerCase() === username.toLowerCase()
          ? 'that username is taken'
          : 'that email is taken',
      )
    }
  }

  /** Creates an account (role user unless said otherwise) and emits user.registered. */
  create(
    input: { username: string; email: string; passwordHash: string; role?: Role },
    trace?: TraceContext,
  ): UserRow {
    const now = Date.now()
    const row: UserRow = {
      id: Bun.randomUUIDv7(),
      username: input.username,
      email: input.email,
      passwordHash: input.passwordHash,
      role: input.role ?? 'user',
      disabled: false,
      createdAt: now,
      updatedAt: now,
    }
    return tx(
      this.store,
      (t) => {
        this.taken(row.username, row.email)
        t.db.insert(users).values(row).run()
        t.publish('user.registered', snapshot(row), { subject: row.id })
        return row
      },
      requestContext(trace),
    )
  }

  /** The account behind a username or email and password; one answer for every wrong case. */
  async authenticate(
    login: { username?: string; email?: string },
    password: string,
  ): Promise<UserRow | null> {
    const user = this.byLogin(login)
    const ok = await Bun.password.verify(password, user?.passwordHash ?? this.decoy)
    return user && ok && !user.disabled ? user : null
  }

  /** Starts a refresh-token family for a fresh login. */
  issueRefreshToken(userId: string, familyId: string = Bun.randomUUIDv7()): string {
    const token = newRefreshToken()
    const now = Date.now()
    this.store.db
      .insert(refreshTokens)
      .values({
        tokenHash: hashRefreshToken(token),
        familyId,
        userId,
        createdAt: now,
        expiresAt: now + this.refreshTtlMs,
      })
      .run()
    return token
  }

  /**
   * Uses up a refresh token and returns its successor with the user. A token used before revokes
   * its whole family (someone replayed it); unknown, expired, revoked or a disabled user: 401.
   */
  rotate(token: string): { user: UserRow; refreshToken: string } {
    const invalid = () => unauthorized('invalid refresh token')
    const result = tx(this.store, (t) => {
      const row = t.db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, hashRefreshToken(token)))
        .get()
      if (!row || row.revokedAt !== null || row.expiresAt <= Date.now()) return null
      if (row.usedAt !== null) {
        this.revokeFamily(row.familyId)
        return 'reused' as const
      }
      const user = this.byId(row.userId)
      if (!user || user.disabled) {
        this.revokeFamily(row.familyId)
        return null
      }
      t.db
        .update(refreshTokens)
        .set({ usedAt: Date.now() })
        .where(eq(refreshTokens.tokenHash, row.tokenHash))
        .run()
      return { user, refreshToken: this.issueRefreshToken(user.id, row.familyId) }
    })
    if (result === 'reused') throw unauthorized('refresh token reuse detected: the session is revoked')
    if (!result) throw invalid()
    return result
  }

  /** Revokes the family of `token` (logout). Unknown tokens change nothing. */
  logout(token: string): void {
    const row = this.store.db
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hashRefreshToken(token)))
      .get()
    if (row) this.revokeFamily(row.familyId)
  }

  private revokeFamily(familyId: string) {
    this.store.db
      .update(refreshTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
      .run()
  }

  private revokeAllOf(userId: string) {
    this.store.db
      .update(refreshTokens)
      .set({ revokedAt: Date.now() })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)))
      .run()
  }

  /** Changes a user's own profile; a new password needs the current one and ends other sessions. */
  async updateSelf(
    id: string,
    patch: { username?: string; email?: string; password?: string; currentPassword?: string },
    trace?: TraceContext,
  ): Promise<UserRow> {
    const current = this.byId(id)
    if (!current) throw notFound('no such user')
    let passwordHash: string | undefined
    if (patch.password !== undefined) {
      if (patch.currentPassword === undefined) {
        throw validationProblem([
          { path: '/body/currentPassword', message: 'is required to set a new password' },
        ])
      }
      if (!(await Bun.password.verify(patch.currentPassword, current.passwordHash)))
        throw new WrongCurrentPassword()
      passwordHash = await this.hashPassword(patch.password)
    }
    return this.change(id, { username: patch.username, email: patch.email, passwordHash }, trace)
  }

  /** What an admin may change: role and disabled. The last active admin stays an active admin. */
  adminUpdate(id: string, patch: { role?: Role; disabled?: boolean }, trace?: TraceContext): UserRow {
    return this.change(id, patch, trace)
  }

  private change(
    id: string,
    patch: { username?: string; email?: string; passwordHash?: string; role?: Role; disabled?: boolean },
    trace?: TraceContext,
  ): UserRow {
    return tx(
      this.store,
      (t) => {
        const before = this.byId(id)
        if (!before) throw notFound('no such user')
        const after: UserRow = {
          ...before,
          username: patch.username ?? before.username,
          email: patch.email ?? before.email,
          passwordHash: patch.passwordHash ?? before.passwordHash,
          role: patch.role ?? before.role,
          disabled: patch.disabled ?? before.disabled,
          updatedAt: Date.now(),
        }
        if (after.username !== before.username || after.email !== before.email) {
          this.taken(after.username, after.email, id)
        }
        const stopsBeingActiveAdmin = isActiveAdmin(before) && !isActiveAdmin(after)
        if (stopsBeingActiveAdmin && this.activeAdmins() <= 1)
          throw conflict('the last admin cannot be removed')
        t.db.update(users).set(after).where(eq(users.id, id)).run()
        if (after.disabled || patch.passwordHash) this.revokeAllOf(id)
        const reason = revocationReason(before, after, patch.passwordHash !== undefined)
        if (reason) this.revokeSessions(t, id, reason)
        const changed = (['username', 'email', 'role', 'disabled'] as const).some(
          (k) => after[k] !== before[k],
        )
        if (changed) t.publish('user.updated', snapshot(after), { subject: id })
        return after
      },
      requestContext(trace),
    )
  }

  /** Removes an account and its sessions; never the last active admin. */
  delete(id: string, trace?: TraceContext): void {
    tx(
      this.store,
      (t) => {
        const user = this.byId(id)
        if (!user) throw notFound('no such user')
        if (isActiveAdmin(user) && this.activeAdmins() <= 1)
          throw conflict('the last admin cannot be removed')
        t.db.delete(users).where(eq(users.id, id)).run()
        t.publish('user.deleted', snapshot(user), { subject: id })
        this.revokeSessions(t, id, 'deleted')
      },
      requestContext(trace),
    )
  }

  /** Ends every session of a user: refresh tokens now, access tokens everywhere one bus round trip later. */
  logoutEverywhere(id: string, trace?: TraceContext): void {
    tx(
      this.store,
      (t) => {
        if (!this.byId(id)) throw unauthorized('this account no longer exists')
        this.revokeAllOf(id)
        this.revokeSessions(t, id, 'logged_out_everywhere')
      },
      requestContext(trace),
    )
  }

  /**
   * Refuses the user's access tokens issued until now: at once here (same transaction), in every
   * other service when user.sessions_revoked reaches it. Kept as long as such a token can live.
   */
  private revokeSessions(t: Tx<typeof schema>, userId: string, reason: SessionsRevoked['reason']) {
    const now = Date.now()
    const revocation = { userId, notBefore: now, expiresAt: now + this.sessions.accessTtlMs }
    this.sessions.revocations.record(t, revocation)
    t.publish('user.sessions_revoked', toEvent(revocation, reason), { subject: userId })
  }

  /**
   * When a new access token of `userId` counts as issued: now, but always after the user's last
   * revocation, so a token issued in the same millisecond as a revocation is not refused by it.
   */
  issuedAtFor(userId: string): number {
    return Math.max(Date.now(), (this.sessions.revocations.notBeforeOf(userId) ?? 0) + 1)
  }

  /** The account as it is now, for a request made with one of its tokens: null once it may not act. */
  current(id: string): Principal | null {
    const row = this.byId(id)
    return row && !row.disabled ? principalOf(row) : null
  }

  activeAdmins(): number {
    return (
      this.store.db
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.role, 'admin'), eq(users.disabled, false)))
        .get()?.n ?? 0
    )
  }

  /** One page of accounts in creation order, optionally filtered by a username/email substring. */
  list(opts: { limit: number; cursor?: string; q?: string }): {
    items: UserRow[]
    nextCursor: string | null
  } {
    const after = opts.cursor ? cursors.decode(opts.cursor) : undefined
    const pattern = opts.q ? `%${opts.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined
    const rows = this.store.db
      .select()
      .from(users)
      .where(
        and(
          after ? gt(users.id, after) : undefined,
          pattern
            ? or(
                sql`lower(${users.username}) LIKE ${pattern} ESCAPE '\\'`,
                sql`lower(${users.email}) LIKE ${pattern} ESCAPE '\\'`,
              )
            : undefined,
        ),
      )
      .orderBy(asc(users.id))
      .limit(opts.limit + 1)
      .all()
    const items = rows.slice(0, opts.limit)
    const last = items.at(-1)
    return { items, nextCursor: rows.length > opts.limit && last ? cursors.encode(last.id) : null }
  }

  hasAdmin(): boolean {
    return (
      this.store.db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).get() !== undefined
    )
  }

  /** Creates the admin from ADMIN_* when no admin exists (first boot). Returns it when created. */
  seedAdmin(admin: { username: string; email: string; password: string }): UserRow | null {
    if (this.hasAdmin()) return null
    return this.create({
      username: admin.username,
      email: admin.email,
      passwordHash: this.hashPasswordSync(admin.password),
      role: 'admin',
    })
  }
}

/** A password change with the wrong current password: a guess, counted like a failed login. */
export class WrongCurrentPassword extends HttpProblem {
  constructor() {
    super('validation', undefined, { errors: [{ path: '/body/currentPassword', message: 'does not match' }] })
  }
}

const isActiveAdmin = (u: UserRow) => u.role === 'admin' && !u.disabled

/** Why a change must end the account's sessions everywhere, if it must. */
function revocationReason(
  before: UserRow,
  after: UserRow,
  passwordChanged: boolean,
): SessionsRevoked['reason'] | null {
  if (after.disabled && !before.disabled) return 'disabled'
  if (before.role === 'admin' && after.role !== 'admin') return 'role_lowered'
  if (passwordChanged) return 'password_changed'
  return null
}

// The last id of a page: uuid v7 ids are in creation order.
const cursors = cursorCodec(Type.String({ format: 'uuid' }))

export const principalOf = (u: UserRow): Principal => ({ id: u.id, role: u.role, username: u.username })
