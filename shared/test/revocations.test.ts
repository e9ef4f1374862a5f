// Revoked sessions: what every service's auth layer refuses after user.sessions_revoked.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import {
  ensureDevKeys,
  JWT_ALG,
  loadPublicKeys,
  loadSigningKey,
  openStore,
  Revocations,
  type Store,
  TokenVerifier,
  tx,
} from '../src/index.ts'
import { tempDir } from '../src/testing.ts'

let tmp: ReturnType<typeof tempDir>
let store: Store
let now: number
const clock = () => now
const open = () => openStore({ file: join(tmp.dir, 'svc.db'), source: 'svc' })

beforeEach(() => {
  tmp = tempDir()
  store = open()
  now = Date.parse('2026-11-25T10:00:00.000Z')
})
afterEach(() => {
  store.close()
  tmp.cleanup()
})

const MIN = 60_000
const record = (r: Revocations, userId: string, notBefore: number, ttl = 15 * MIN) =>
  tx(store, (t) => r.record(t, { userId, notBefore, expiresAt: notBefore + ttl }))

describe('Revocations', () => {
  test('refuses what was issued at or before notBefore, for that user only', () => {
    const r = new Revocations(store, clock)
    record(r, 'eve', now)
    expect(r.refuses('eve', now - 5 * MIN)).toBe(true)
    expect(r.refuses('eve', now)).toBe(true)
    expect(r.refuses('eve', now + 1)).toBe(false)
    expect(r.refuses('bob', now - 5 * MIN)).toBe(false)
  })

  test('survives a restart: the next process reads it from the database', () => {
    record(new Revocations(store, clock), 'eve', now)
    store.close()
    store = open()
    expect(new Revocations(store, clock).refuses('eve', now - 1)).toBe(true)
  })

  test('a later revocation wins; an older one arriving late rolls nothing back', () => {
    const r = new Revocations(store, clock)
    record(r, 'eve', now)
    record(r, 'eve', now - 10 * MIN)
    expect(r.refuses('eve', now - 1)).toBe(true)
    expect(new Revocations(store, clock).refuses('eve', now - 1)).toBe(true)
    record(r, 'eve', now + MIN)
    expect(r.refuses('eve', now + 30_000)).toBe(true)
  })

  test('a transaction that rolls back leaves no revocation, in memory or on disk', () => {
    const r = new Revocations(store, clock)
    expect(() =>
      tx(store, (t) => {
        r.record(t, { userId: 'eve', notBefore: now, expiresAt: now + MIN })
        throw new Error('the handler failed after recording')
      }),
    ).toThrow('the handler failed')
    expect(r.refuses('eve', now - 1)).toBe(false)
    expect(new Revocations(store, clock).refuses('eve', now - 1)).toBe(false)
  })

  test('is forgotten once every token it refuses has expired (memory and rows)', () => {
    const r = new Revocations(store, clock)
    record(r, 'eve', now, 15 * MIN)
    record(r, 'bob', now, 60 * MIN)
    now += 15 * MIN + 1
    expect(r.refuses('eve', now - 20 * MIN)).toBe(false)
    expect(r.prune()).toBe(1)
    const rows = store.sqlite.prepare('SELECT user_id AS id FROM mart_revocations').all()
    expect(rows).toEqual([{ id: 'bob' }])
    expect(r.refuses('bob', now - 20 * MIN)).toBe(true)
  })
})

describe('TokenVerifier with revocations', () => {
  test("refuses a revoked user's older token with 401, also once it is cached; a newer token passes", async () => {
    const keys = await ensureDevKeys(tmp.dir)
    const signing = await loadSigningKey(keys.privateKey)
    const sign = (sub: string, issuedAtMs: number) =>
      new SignJWT({ role: 'admin', username: sub })
        .setProtectedHeader({ alg: JWT_ALG, kid: signing.kid })
        .setSubject(sub)
        .setIssuer('mart')
        .setAudience('mart')
        .setIssuedAt(issuedAtMs / 1000)
        .setExpirationTime(Math.floor(issuedAtMs / 1000) + 900)
        .sign(signing.key)
    const revocations = new Revocations(store)
    const verifier = new TokenVerifier({
      keys: await loadPublicKeys(keys.publicKeys),
      issuer: 'mart',
      audience: 'mart',
      revocations,
    })
    const issued = Date.now() - 1000
    const old = await sign('eve', issued)
    const other = await sign('bob', issued)
    expect((await verifier.verify(old)).id).toBe('eve') // now in the cache

    tx(store, (t) => revocations.record(t, { userId: 'eve', notBefore: issued + 1, expiresAt: issued + MIN }))
    const refused = verifier.verify(old)
    await expect(refused).rejects.toMatchObject({ status: 401, detail: expect.stringContaining('revoked') })
    expect((await verifier.verify(other)).id).toBe('bob')
    // Issued a millisecond after the revocation: the fraction of iat counts.
    expect((await verifier.verify(await sign('eve', issued + 2))).id).toBe('eve')
  })
})
