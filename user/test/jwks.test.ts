import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { authGuards, createHttpApp, loadPublicKeys, problemTypeUri, TokenVerifier } from '@mart/shared'
import { testLogger } from '@mart/shared/testing'
import {
  base64url,
  type CryptoKey,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  importJWK,
  type JWK,
  SignJWT,
} from 'jose'
import { ADMIN, startUser, type UserHarness } from './support.ts'

let u: UserHarness
beforeEach(async () => {
  u = await startUser()
})
afterEach(() => u.stop())

async function jwks() {
  const r = await u.call('GET', '/api/auth/jwks.json')
  expect(r.status).toBe(200)
  return r.body as { keys: JWK[] }
}

/** The service's own signing key, from the development keys it generated under its data dir. */
async function servicePrivateKey(): Promise<{ key: CryptoKey; kid: string }> {
  const jwk = JSON.parse(readFileSync(join(u.dir, 'keys', 'jwt-private.jwk.json'), 'utf8')) as JWK
  return { key: (await importJWK(jwk, 'EdDSA')) as CryptoKey, kid: jwk.kid as string }
}

/** Another service: it has only the public keys and verifies tokens on its own. */
async function secondApp() {
  const verifier = new TokenVerifier({
    keys: await loadPublicKeys(JSON.stringify(await jwks())),
    issuer: 'mart',
    audience: 'mart',
  })
  const app = createHttpApp({
    service: 'other',
    log: testLogger('other'),
    bodyLimit: 1 << 20,
    ready: () => true,
  })
    .use(authGuards(verifier))
    .get('/api/other/me', ({ user }) => user, { requireUser: true })
    .get('/api/other/admin', ({ user }) => user, { requireAdmin: true })
  return async (path: string, token?: string) => {
    const res = await app.handle(
      new Request(`http://other.mart.test${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      }),
    )
    const text = await res.text()
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any }
  }
}

/** A token with the claims the user service puts in, signed with `key` under `kid`. */
function sign(
  key: CryptoKey,
  kid: string,
  claims: { sub: string; role: string; username: string },
  opts: { iat?: number; exp?: number; iss?: string; aud?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ role: claims.role, username: claims.username })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(opts.iss ?? 'mart')
    .setAudience(opts.aud ?? 'mart')
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 900)
    .sign(key)
}

describe('GET /api/auth/jwks.json', () => {
  test('answers the public keys only: kid, OKP, Ed25519, no private part', async () => {
    const r = await u.call('GET', '/api/auth/jwks.json')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toContain('application/json')
    expect(r.body.keys.length).toBeGreaterThanOrEqual(1)
    for (const key of r.body.keys as JWK[]) {
      expect(key).toMatchObject({
        kid: expect.any(String),
        kty: 'OKP',
        crv: 'Ed25519',
        x: expect.any(String),
      })
      expect(key).not.toHaveProperty('d')
    }
    expect(r.text).not.toContain('"d"')
    // Nobody needs a token to read it.
    expect(r.headers.get('www-authenticate')).toBeNull()
  })

  test("the access token's header and claims", async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    const header = decodeProtectedHeader(accessToken)
    expect(header.alg).toBe('EdDSA')
    expect((await jwks()).keys.map((k) => k.kid)).toContain(header.kid)

    const claims = decodeJwt(accessToken)
    const { iat, exp } = claims as { iat: number; exp: number }
    expect(claims).toMatchObject({
      sub: bob.id,
      role: 'user',
      username: 'bob',
      iss: 'mart',
      aud: 'mart',
      iat: expect.any(Number),
      exp: expect.any(Number),
    })
    // iat keeps milliseconds (revocations are exact to the millisecond); exp is whole seconds.
    expect(exp - Math.floor(iat)).toBe(900)
    expect(Number.isInteger(exp)).toBe(true)
    expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(60)
    // Nothing secret travels in it.
    expect(JSON.stringify(claims)).not.toContain('password')
    expect(JSON.stringify(claims)).not.toContain('email')
  })
})

describe('a second app that only has the public keys', () => {
  test('a user token passes requireUser and gets 403 from requireAdmin', async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    const other = await secondApp()
    const me = await other('/api/other/me', accessToken)
    expect(me.status).toBe(200)
    expect(me.body).toEqual({ id: bob.id, role: 'user', username: 'bob' })
    const admin = await other('/api/other/admin', accessToken)
    expect(admin.status).toBe(403)
    expect(admin.body.type).toBe(problemTypeUri('forbidden'))
  })

  test('an admin token passes both', async () => {
    const other = await secondApp()
    const token = await u.adminToken()
    for (const path of ['/api/other/me', '/api/other/admin']) {
      const r = await other(path, token)
      expect(r.status).toBe(200)
      expect(r.body).toMatchObject({ role: 'admin', username: ADMIN.username })
    }
  })

  test('no token: 401 with WWW-Authenticate: Bearer', async () => {
    const other = await secondApp()
    for (const path of ['/api/other/me', '/api/other/admin']) {
      const r = await other(path)
      expect(r.status).toBe(401)
      expect(r.headers.get('www-authenticate')).toBe('Bearer')
    }
  })

  test('a tampered payload (role changed to admin, signature kept): 401', async () => {
    await u.register('bob')
    const { accessToken } = await u.login('bob')
    const other = await secondApp()
    // Verified once, so a cache could only help the forgery if it were keyed loosely.
    expect((await other('/api/other/me', accessToken)).status).toBe(200)
    const [h, p, s] = accessToken.split('.') as [string, string, string]
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)))
    const forged = `${h}.${base64url.encode(JSON.stringify({ ...claims, role: 'admin' }))}.${s}`
    for (const path of ['/api/other/me', '/api/other/admin']) {
      const r = await other(path, forged)
      expect(r.status).toBe(401)
      expect(r.headers.get('www-authenticate')).toBe('Bearer')
      expect(r.body.type).toBe(problemTypeUri('unauthorized'))
    }
    // The user service refuses it too.
    expect((await u.call('GET', '/api/users', { token: forged })).status).toBe(401)
  })

  test('a token signed by another Ed25519 key under the same kid: 401', async () => {
    const bob = await u.register('bob')
    const { kid } = await servicePrivateKey()
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const forged = await sign(privateKey, kid, { sub: bob.id, role: 'admin', username: 'bob' })
    expect(decodeProtectedHeader(forged).kid).toBe((await jwks()).keys[0]?.kid)
    const other = await secondApp()
    for (const path of ['/api/other/me', '/api/other/admin']) {
      const r = await other(path, forged)
      expect(r.status).toBe(401)
      expect(r.headers.get('www-authenticate')).toBe('Bearer')
    }
    expect((await u.call('GET', '/api/users/me', { token: forged })).status).toBe(401)
  })

  test('a token under an unknown kid: 401', async () => {
    const bob = await u.register('bob')
    const { key } = await servicePrivateKey()
    const token = await sign(key, 'some-other-kid', { sub: bob.id, role: 'user', username: 'bob' })
    expect((await (await secondApp())('/api/other/me', token)).status).toBe(401)
  })

  test('an expired token signed with the real key: 401 saying it expired', async () => {
    const bob = await u.register('bob')
    const { key, kid } = await servicePrivateKey()
    const now = Math.floor(Date.now() / 1000)
    const expired = await sign(
      key,
      kid,
      { sub: bob.id, role: 'user', username: 'bob' },
      { iat: now - 1000, exp: now - 100 },
    )
    // The same key and claims, not yet expired, are accepted: only the expiry differs.
    const fresh = await sign(key, kid, { sub: bob.id, role: 'user', username: 'bob' })
    const other = await secondApp()
    expect((await other('/api/other/me', fresh)).status).toBe(200)

    const r = await other('/api/other/me', expired)
    expect(r.status).toBe(401)
    expect(r.headers.get('www-authenticate')).toBe('Bearer')
    expect(r.body.detail).toMatch(/expire/i)

    const own = await u.call('GET', '/api/users/me', { token: expired })
    expect(own.status).toBe(401)
    expect(own.body.detail).toMatch(/expire/i)
  })

  test('a token for another issuer or audience, signed with the real key: 401', async () => {
    const bob = await u.register('bob')
    const { key, kid } = await servicePrivateKey()
    const claims = { sub: bob.id, role: 'user', username: 'bob' }
    const other = await secondApp()
    for (const opts of [{ iss: 'elsewhere' }, { aud: 'elsewhere' }]) {
      const r = await other('/api/other/me', await sign(key, kid, claims, opts))
      expect(r.status).toBe(401)
    }
  })

  test('a token with a role the platform does not know: 401', async () => {
    const bob = await u.register('bob')
    const { key, kid } = await servicePrivateKey()
    const token = await sign(key, kid, { sub: bob.id, role: 'root', username: 'bob' })
    expect((await (await secondApp())('/api/other/me', token)).status).toBe(401)
  })
})
