// Idempotency-Key, the platform's half: claiming a key in the request's transaction, its window,
// and the purge every service runs. What a route answers with it is its service's test
// (order/test/idempotency.test.ts).
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import {
  claimIdempotencyKey,
  HttpProblem,
  IDEMPOTENCY_WINDOW_MS,
  type IdempotencyClaim,
  keepIdempotentAnswer,
  MemoryBus,
  openStore,
  purgeIdempotencyKeys,
  replayResponse,
  requestHash,
  type Store,
  startService,
  tx,
} from '../src/index.ts'
import { tempDir, testLogger } from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'

let tmp: ReturnType<typeof tempDir>
let store: Store
const NOW = Date.parse('2026-11-25T10:00:00.000Z')

beforeEach(() => {
  tmp = tempDir()
  store = openStore({ file: join(tmp.dir, 'product.db'), source: 'product' })
})
afterEach(() => {
  store.close()
  tmp.cleanup()
})

const request = (over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({
  userId: 'alice',
  key: 'checkout-7f3a',
  hash: requestHash({ amount: 1999 }),
  resourceId: 'r1',
  now: NOW,
  ...over,
})
const claim = (over: Partial<IdempotencyClaim> = {}) =>
  tx(store, () => claimIdempotencyKey(store, request(over)))
/** Claims the key and, when it is the caller's, keeps `body` as its answer, as a route does. */
const answer = (body: string, over: Partial<IdempotencyClaim> = {}) =>
  tx(store, () => {
    const earlier = claimIdempotencyKey(store, request(over))
    if (!earlier)
      keepIdempotentAnswer(store, over.userId ?? 'alice', over.key ?? 'checkout-7f3a', { status: 202, body })
    return earlier
  })
const keys = () => store.sqlite.prepare('SELECT user_id, key, resource_id FROM mart_idempotency_keys').all()

describe('requestHash', () => {
  test('the same body spelled with its keys in another order hashes the same', () => {
    expect(requestHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(
      requestHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }),
    )
    expect(requestHash({ a: 1, b: undefined })).toBe(requestHash({ a: 1 }))
    expect(requestHash({ a: [1, 2] })).not.toBe(requestHash({ a: [2, 1] }))
    expect(requestHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('claimIdempotencyKey', () => {
  test('a new key is the caller’s; the same request again gets the kept answer', () => {
    expect(answer('{"id":"r1"}')).toBeNull()
    expect(answer('{"id":"r2"}', { resourceId: 'r2', now: NOW + 1000 })).toEqual({
      status: 202,
      body: '{"id":"r1"}',
      resourceId: 'r1',
    })
  })

  test('the same key with another request is a 422 at /headers/idempotency-key', () => {
    answer('{}')
    let thrown: unknown
    try {
      claim({ hash: requestHash({ amount: 5 }), resourceId: 'r2' })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(HttpProblem)
    expect((thrown as HttpProblem).toProblem()).toMatchObject({
      status: 422,
      errors: [{ path: '/headers/idempotency-key', message: 'was already used for a different request' }],
    })
  })

  test('a key is its user’s own', () => {
    answer('{}')
    expect(answer('{}', { userId: 'bob', resourceId: 'r2' })).toBeNull()
    expect(keys()).toHaveLength(2)
  })

  test('a transaction that rolls back leaves the key free', () => {
    expect(() =>
      tx(store, () => {
        claimIdempotencyKey(store, request())
        throw new Error('refused')
      }),
    ).toThrow('refused')
    expect(keys()).toEqual([])
    expect(answer('{}')).toBeNull()
  })

  test('within its window a key replays; from 24 hours on it is free again, for any request', () => {
    answer('{"id":"r1"}')
    expect(claim({ now: NOW + IDEMPOTENCY_WINDOW_MS - 1 })?.resourceId).toBe('r1')
    const later = NOW + IDEMPOTENCY_WINDOW_MS
    expect(
      answer('{"id":"r2"}', { hash: requestHash({ amount: 5 }), resourceId: 'r2', now: later }),
    ).toBeNull()
    // The key now answers with what the new request made.
    expect(claim({ hash: requestHash({ amount: 5 }), now: later + 1 })).toEqual({
      status: 202,
      body: '{"id":"r2"}',
      resourceId: 'r2',
    })
  })

  test('outside a transaction it refuses: a claim would outlive a request refused afterwards', () => {
    expect(() => claimIdempotencyKey(store, request())).toThrow("must run inside the request's transaction")
    expect(() => keepIdempotentAnswer(store, 'alice', 'k', { status: 202, body: '' })).toThrow(
      "must run inside the request's transaction",
    )
    expect(keys()).toEqual([])
  })
})

test('replayResponse answers the kept status and body as JSON, marked replayed', async () => {
  const res = replayResponse({ status: 202, body: '{"id":"r1"}', resourceId: 'r1' }, '/api/things/r1')
  expect(res.status).toBe(202)
  expect(await res.text()).toBe('{"id":"r1"}')
  expect(Object.fromEntries(res.headers)).toEqual({
    'content-type': 'application/json',
    location: '/api/things/r1',
    'idempotent-replayed': 'true',
  })
  expect(replayResponse({ status: 201, body: '{}', resourceId: 'r1' }).headers.has('location')).toBe(false)
})

describe('purging', () => {
  test('deletes the keys past their window, and only those', () => {
    answer('{}', { key: 'old' })
    answer('{}', { key: 'new', now: NOW + 1 })
    expect(purgeIdempotencyKeys(store, NOW + IDEMPOTENCY_WINDOW_MS)).toBe(1)
    expect(keys()).toEqual([{ user_id: 'alice', key: 'new', resource_id: 'r1' }])
    expect(purgeIdempotencyKeys(store, NOW + IDEMPOTENCY_WINDOW_MS)).toBe(0)
  })

  test('every service purges them as it starts (and hourly after)', async () => {
    const now = Date.now()
    answer('{}', { key: 'old', now: now - IDEMPOTENCY_WINDOW_MS - 1 })
    answer('{}', { key: 'new', now })
    store.close()
    const service = await startService(definition, {
      env: { DATA_DIR: tmp.dir },
      bus: new MemoryBus(),
      log: testLogger(),
    })
    try {
      store = service.store
      expect(keys()).toEqual([{ user_id: 'alice', key: 'new', resource_id: 'r1' }])
    } finally {
      await service.stop()
      store = openStore({ file: join(tmp.dir, 'product.db'), source: 'product' })
    }
  })
})
