import {
  conflict,
  found,
  HttpProblem,
  keysetPages,
  type Page,
  type PageRequest,
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
import { forgetDevices } from './devices.ts'
import type { PasswordHasher } from './passwords.ts'
import { hashOpaqueToken, newOpaqueToken } from './tokens.ts'

type Db = Store<typeof schema>
export type UserRow = typeof users.$inferSelect

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

export interface RefreshSettings {
  /** How long a refresh token lives. */
  ttlMs: number
  /** How long after its first use a refresh token may be used again without counting as reuse. */
  reuseGraceMs: number
}

/** An account as it was before a change and as the change left it. */
export interface Change {
  before: UserRow
  after: UserRow
}

/** The user accounts and their refresh-token families; every change emits its event in the same commit. */
export class Users {
  // Prepared once: every authenticated request of this service reads its account (current()).
  private readonly byIdQuery
  /** The row behind each principal current() answered, for as long as that principal is in use. */
  private readonly readFor = new WeakMap<Principal, UserRow>()

  constructor(
    private readonly store: Db,
    private readonly passwords: PasswordHasher,
    private readonly refresh: RefreshSettings,
    private readonly sessions: { revocations: Revocations; accessTtlMs: number },
  ) {
    this.byIdQuery = store.db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .prepare()
  }

  byId(id: string): UserRow | undefined {
    return this.byIdQuery.get({ id })
  }

  /** The account, or a 404. */
  get(id: string): UserRow {
    return found(this.byId(id), 'no such user')
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

  /**
   * A new user account from the registration form. A taken username or email is refused before
   * the password is hashed (and again in the transaction, where it counts).
   */
  async register(
    input: { username: string; email: string; password: string },
    trace?: TraceContext,
  ): Promise<UserRow> {
    this.taken(input.username, input.email)
    const passwordHash = await this.passwords.hash(input.password)
    return this.create({ username: input.username, email: input.email, passwordHash }, trace)
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

  /**
   * The account if `password` is its password and it may sign in; null for every wrong case. Without
   * an account a decoy is checked, so the answer takes as long.
   */
  async authenticate(account: UserRow | undefined, password: string): Promise<UserRow | null> {
    const ok = await this.passwords.verify(password, account?.passwordHash)
    return account && ok && !account.disabled ? account : null
  }

  /** Starts a refresh-token family for a fresh login. */
  issueRefreshToken(userId: string, familyId: string = Bun.randomUUIDv7()): string {
    const token = newOpaqueToken()
    const now = Date.now()
    this.store.db
      .insert(refreshTokens)
      .values({
        tokenHash: hashOpaqueToken(token),
        familyId,
        userId,
        createdAt: now,
        expiresAt: now + this.refresh.ttlMs,
      })
      .run()
    return token
  }

  /**
   * Uses up a refresh token and returns its successor with the user. A token used again within
   * the grace window gets a successor of its own (a client racing itself: two tabs, a retry after
   * a lost answer); used again later it revokes its whole family (someone replayed it). Unknown,
   * expired, revoked or a disabled user: 401.
   */
  rotate(token: string): { user: UserRow; refreshToken: string } {
    const invalid = () => unauthorized('invalid refresh token')
    const result = tx(this.store, (t) => {
      const row = t.db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, hashOpaqueToken(token)))
        .get()
      const now = Date.now()
      if (!row || row.revokedAt !== null || row.expiresAt <= now) return null
      if (row.usedAt !== null && now - row.usedAt >= this.refresh.reuseGraceMs) {
        this.revokeFamily(row.familyId)
        return new RefreshTokenReused(row.userId)
      }
      const user = this.byId(row.userId)
      if (!user || user.disabled) {
        this.revokeFamily(row.familyId)
        return null
      }
      // The first use starts the grace window; a use within it does not move it.
      if (row.usedAt === null) {
        t.db
          .update(refreshTokens)
          .set({ usedAt: now })
          .where(eq(refreshTokens.tokenHash, row.tokenHash))
          .run()
      }
      return { user, refreshToken: this.issueRefreshToken(user.id, row.familyId) }
    })
    if (result instanceof RefreshTokenReused) throw result
    if (!result) throw invalid()
    return result
  }

  /** Revokes the family of `token` (logout). Unknown tokens change nothing. */
  logout(token: string): void {
    const row = this.store.db
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hashOpaqueToken(token)))
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

  /** Changes a user's own profile; a new email or password needs the current password. */
  async updateSelf(
    id: string,
    patch: { username?: string; email?: string; password?: string; currentPassword?: string },
    trace?: TraceContext,
  ): Promise<Change> {
    const current = this.get(id)
    // The password is checked before a taken email is reported.
    if (needsCurrentPassword(current, patch)) {
      if (patch.currentPassword === undefined) {
        throw validationProblem([
          { path: '/body/currentPassword', message: 'is required to change the email or the password' },
        ])
      }
      if (!(await this.passwords.verify(patch.currentPassword, current.passwordHash)))
        throw new WrongCurrentPassword()
    }
    const passwordHash = patch.password === undefined ? undefined : await this.passwords.hash(patch.password)
    return this.change(id, { username: patch.username, email: patch.email, passwordHash }, trace)
  }

  /** What an admin may change: role and disabled. The last active admin stays an active admin. */
  adminUpdate(id: string, patch: { role?: Role; disabled?: boolean }, trace?: TraceContext): Change {
    return this.change(id, patch, trace)
  }

  private change(
    id: string,
    patch: { username?: string; email?: string; passwordHash?: string; role?: Role; disabled?: boolean },
    trace?: TraceContext,
  ): Change {
    return tx(
      this.store,
      (t) => {
        const before = this.get(id)
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
        if (after.disabled || patch.passwordHash) {
          this.revokeAllOf(id)
          forgetDevices(t.db, id)
        }
        const reason = revocationReason(before, after, patch.passwordHash !== undefined)
        if (reason) this.revokeSessions(t, id, reason)
        const changed = (['username', 'email', 'role', 'disabled'] as const).some(
          (k) => after[k] !== before[k],
        )
        if (changed) t.publish('user.updated', snapshot(after), { subject: id })
        return { before, after }
      },
      requestContext(trace),
    )
  }

  /** Removes an account and its sessions; never the last active admin. Answers the account as it was. */
  delete(id: string, trace?: TraceContext): UserRow {
    return tx(
      this.store,
      (t) => {
        const user = this.get(id)
        if (isActiveAdmin(user) && this.activeAdmins() <= 1)
          throw conflict('the last admin cannot be removed')
        t.db.delete(users).where(eq(users.id, id)).run()
        t.publish('user.deleted', snapshot(user), { subject: id })
        this.revokeSessions(t, id, 'deleted')
        return user
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
    if (!row || row.disabled) return null
    const principal = principalOf(row)
    this.readFor.set(principal, row)
    return principal
  }

  /**
   * The account behind a principal `current` answered (the request's guard): the row it read then,
   * not read a second time. GET /me read it twice, and a read is most of that request.
   */
  accountOf(principal: Principal): UserRow {
    return this.readFor.get(principal) ?? this.get(principal.id)
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
  list(opts: PageRequest & { q?: string | undefined }): Page<UserRow> {
    const { limit, after } = accountPages.read(opts)
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
      .limit(limit + 1)
      .all()
    return accountPages.page(rows, limit, (u) => u.id)
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
      passwordHash: this.passwords.hashNow(admin.password),
      role: 'admin',
    })
  }
}

/**
 * Whether a change of one's own profile must prove the current password: a new password, or a new
 * email (where a password reset would go, so a stolen session must not change it either).
 */
export const needsCurrentPassword = (current: UserRow, patch: { email?: string; password?: string }) =>
  patch.password !== undefined || (patch.email !== undefined && patch.email !== current.email)

/** A refresh token used again after the grace window: its family is revoked (401). */
export class RefreshTokenReused extends HttpProblem {
  constructor(readonly userId: string) {
    super('unauthorized', 'refresh token reuse detected: the session is revoked', {
      headers: { 'www-authenticate': 'Bearer' },
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

/** Accounts in creation order, the cursor being the last id of a page: uuid v7 ids sort by creation. */
export const accountPages = keysetPages(Type.String({ format: 'uuid' }))

export const principalOf = (u: UserRow): Principal => ({ id: u.id, role: u.role, username: u.username })
