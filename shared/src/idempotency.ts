// Idempotency-Key, for the POSTs that create something (an order, a payment): the same key from the
// same user within a day answers the original answer again and creates nothing. The (user, key)
// primary key of `mart_idempotency_keys` decides, not a lookup first: of two concurrent requests
// with one key, one inserts and the other finds its row. The platform purges keys past the window.
import { createHash } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import { perStore, type Store } from './db/open.ts'
import { validationProblem } from './errors.ts'

/** How long a key answers with what its request created. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000

/** 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7E]{1,255}$'

/** The route's `Idempotency-Key` header, documented the same way by every service: `Type.Object({ ...IdempotencyKeyHeader })`. */
export const IdempotencyKeyHeader = {
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        '1-255 visible ASCII characters. The same key from the same user within 24 h answers the ' +
        'original answer again (with Idempotent-Replayed: true) and creates nothing; with another body, 422.',
    }),
  ),
}

/** What the original request answered, replayed as it was, and what it created. */
export interface IdempotentAnswer {
  status: number
  body: string
  resourceId: string
}

export interface IdempotencyClaim {
  userId: string
  key: string
  /** `requestHash(body)` of this request. */
  hash: string
  /** What this request creates, if the key is its own. */
  resourceId: string
  now: number
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

/** sha-256 (hex) of the body's canonical JSON. */
export const requestHash = (body: unknown): string =>
  createHash('sha256').update(canonical(body)).digest('hex')

interface HeldKey {
  requestHash: string
  resourceId: string
  status: number
  body: string
  createdAt: number
}

// Prepared once per store: a key is claimed on the hot path of placing an order.
const statementsOf = perStore((store: Store) => {
  const { sqlite } = store
  return {
    // The answer is written once the request has made it, in the same transaction.
    claim: sqlite.prepare(
      `INSERT INTO mart_idempotency_keys (user_id, key, request_hash, resource_id, status, body, created_at)
       VALUES (?, ?, ?, ?, 0, '', ?) ON CONFLICT DO NOTHING`,
    ),
    held: sqlite.prepare<[string, string], HeldKey>(
      `SELECT request_hash AS requestHash, resource_id AS resourceId, status, body, created_at AS createdAt
       FROM mart_idempotency_keys WHERE user_id = ? AND key = ?`,
    ),
    reclaim: sqlite.prepare(
      `UPDATE mart_idempotency_keys SET request_hash = ?, resource_id = ?, status = 0, body = '', created_at = ?
       WHERE user_id = ? AND key = ?`,
    ),
    answer: sqlite.prepare(
      'UPDATE mart_idempotency_keys SET status = ?, body = ? WHERE user_id = ? AND key = ?',
    ),
    purge: sqlite.prepare('DELETE FROM mart_idempotency_keys WHERE created_at <= ?'),
  }
})

// Outside a transaction the claim would commit at once, and a request refused afterwards would
// have used up its key.
function inTransaction(store: Store, what: string): void {
  if (!store.sqlite.inTransaction) throw new Error(`${what} must run inside the request's transaction`)
}

/**
 * Claims `key` for `resourceId`, in the caller's transaction (`tx(store, ...)`). Answers the original
 * answer when the key was used for the same request within the window (replay it and create
 * nothing); throws a 422 (at `/headers/idempotency-key`) when it was used for another request;
 * answers null when the key is the caller's now: create, then `keepIdempotentAnswer`.
 */
export function claimIdempotencyKey(
  store: Store,
  { userId, key, hash, resourceId, now }: IdempotencyClaim,
): IdempotentAnswer | null {
  inTransaction(store, 'claimIdempotencyKey')
  const st = statementsOf(store)
  if (st.claim.run(userId, key, hash, resourceId, now).changes === 1) return null
  const held = st.held.get(userId, key)
  if (!held) throw new Error('idempotency key vanished inside its transaction')
  if (held.createdAt <= now - IDEMPOTENCY_WINDOW_MS) {
    // Past its window, not yet purged: the key is free again.
    st.reclaim.run(hash, resourceId, now, userId, key)
    return null
  }
  if (held.requestHash !== hash) {
    throw validationProblem(
      [{ path: '/headers/idempotency-key', message: 'was already used for a different request' }],
      'this Idempotency-Key was used with a different body',
    )
  }
  return { status: held.status, body: held.body, resourceId: held.resourceId }
}

/** Keeps the answer the claimed key replays, in the transaction that claimed it. */
export function keepIdempotentAnswer(
  store: Store,
  userId: string,
  key: string,
  answer: { status: number; body: string },
): void {
  inTransaction(store, 'keepIdempotentAnswer')
  statementsOf(store).answer.run(answer.status, answer.body, userId, key)
}

/** The stored answer again, as a JSON response marked `Idempotent-Replayed: true`. */
export function replayResponse(answer: IdempotentAnswer, location?: string): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (location !== undefined) headers.location = location
  headers['idempotent-replayed'] = 'true'
  return new Response(answer.body, { status: answer.status, headers })
}

/** Deletes the keys past their window; answers how many. The platform runs it hourly (lifecycle.ts). */
export const purgeIdempotencyKeys = (store: Store, now = Date.now()): number =>
  statementsOf(store).purge.run(now - IDEMPOTENCY_WINDOW_MS).changes
