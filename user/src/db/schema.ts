import { isOneOf } from '@mart/shared/db/one-of'
import { roles } from '@mart/shared/events/enums'
import { sql } from 'drizzle-orm'
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

export const users = sqliteTable(
  'users',
  {
    /** uuid v7: time-ordered, so it doubles as the keyset pagination cursor. */
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: roles }).notNull().default('user'),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    // Case-insensitive uniqueness: "Alice" and "alice" are one account.
    uniqueIndex('users_username_unique').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_unique').on(sql`lower(${t.email})`),
    check('users_role', isOneOf(t.role, roles)),
  ],
)

/**
 * Refresh tokens, stored only as SHA-256 hashes. Each login starts a family; every refresh uses
 * one token up (`used_at`) and adds its successor to the family. A used token presented again
 * means it was stolen: the whole family is revoked.
 */
export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    familyId: text('family_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('refresh_tokens_family').on(t.familyId), index('refresh_tokens_user').on(t.userId)],
)

/**
 * Device tokens (OWASP's "device cookies"): proof that a client logged in to this account before,
 * which exempts it from the lockout of the account's untrusted clients. Stored only as SHA-256
 * hashes; a password change, disabling and deletion drop them.
 */
export const deviceTokens = sqliteTable(
  'device_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull(),
    /** Moved forward on every login with the token, as the cookie's Max-Age is. */
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('device_tokens_user').on(t.userId, t.expiresAt)],
)
