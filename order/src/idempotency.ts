// Idempotency-Key for placing orders: the same key from the same user within a day answers the
// original order again and creates nothing. The (user, key) primary key decides, not a lookup
// first: of two concurrent requests with one key, one inserts and the other finds its row.
import { createHash } from 'node:crypto'
import { onceFor, validationProblem } from '@mart/shared'
import { and, eq, lt, sql } from 'drizzle-orm'
import { idempotencyKeys } from './db/schema.ts'
import type { T } from './saga.ts'
import type { Db } from './view.ts'

/** How long a key answers with its order. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000

/** 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7E]{1,255}$'

/** What the original request answered: replayed as it was. */
export interface Answer {
  status: number
  body: string
  orderId: string
}

/** JSON with object keys sorted at every level: the same body hashes the same however it is spelled. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const p = sql.placeholder
const thisKey = and(eq(idempotencyKeys.userId, p('userId')), eq(idempotencyKeys.key, p('key')))

const statements = onceFor((db: Db) => ({
  claim: db
    .insert(idempotencyKeys)
    .values({
      userId: p('userId'),
      key: p('key'),
      requestHash: p('hash'),
      orderId: p('orderId'),
      status: 0,
      body: '',
      createdAt: p('now'),
    })
    .onConflictDoNothing()
    .prepare(),
  held: db.select().from(idempotencyKeys).where(thisKey).prepare(),
  drop: db.delete(idempotencyKeys).where(thisKey).prepare(),
  answer: db
    .update(idempotencyKeys)
    // set() takes values or SQL, not placeholders.
    .set({ status: sql`${p('status')}`, body: sql`${p('body')}` })
    .where(thisKey)
    .prepare(),
}))

export const requestHash = (body: unknown) => createHash('sha256').update(canonical(body)).digest('hex')

/**
 * Claims `key` for `orderId` in the caller's transaction. Answers the original answer when the key
 * was used for the same request within the window (the caller replays it and creates nothing);
 * throws 422 when it was used for another request; answers null when the key is the caller's now.
 */
export function claim(
  t: T,
  userId: string,
  key: string,
  hash: string,
  orderId: string,
  now: number,
): Answer | null {
  const st = statements(t.db)
  const insert = () => st.claim.run({ userId, key, hash, orderId, now }).changes === 1
  if (insert()) return null
  const held = st.held.get({ userId, key })
  if (!held) throw new Error('idempotency key vanished inside its transaction')
  if (held.createdAt <= now - IDEMPOTENCY_WINDOW_MS) {
    // Past its window, not yet purged: the key is free again.
    st.drop.run({ userId, key })
    insert()
    return null
  }
  if (held.requestHash !== hash) {
    throw validationProblem(
      [{ path: '/headers/idempotency-key', message: 'was already used for a different request' }],
      'this Idempotency-Key was used with a different body',
    )
  }
  return { status: held.status, body: held.body, orderId: held.orderId }
}

/** Keeps the answer to replay with the key the request claimed. */
export function remember(t: T, userId: string, key: string, answer: Omit<Answer, 'orderId'>): void {
  statements(t.db).answer.run({ userId, key, status: answer.status, body: answer.body })
}

/** Deletes keys past their window; answers how many. */
export const purgeKeys = (t: T, now = Date.now()): number =>
  t.db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`${now - IDEMPOTENCY_WINDOW_MS}`))
    .run().changes
