import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { generateKeyPair, SignJWT } from 'jose'
import { type ProductHarness, startProduct } from './support.ts'

let p: ProductHarness
beforeEach(async () => {
  p = await startProduct()
})
afterEach(() => p.stop())

/** Every admin route, with a body that would pass validation. */
const adminCalls = (id: string): [string, string, unknown?][] => [
  ['POST', '/api/products', { name: 'Sneaky', price: { amount: 1, currency: 'EUR' } }],
  ['PATCH', `/api/products/${id}`, { name: 'Renamed' }],
  ['DELETE', `/api/products/${id}`],
]

describe('admin routes refuse everyone else', () => {
  test('no token, a malformed one, or one signed by another key: 401 with WWW-Authenticate: Bearer', async () => {
    const a = await p.create()
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const forged = await new SignJWT({ role: 'admin', username: 'mallory' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'forged' })
      .setSubject(crypto.randomUUID())
      .setIssuer('mart')
      .setAudience('mart')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey)
    for (const token of [undefined, 'not-a-jwt', forged]) {
      for (const [method, path, body] of adminCalls(a.id)) {
        const r = await p.call(method, path, { token, body })
        expect({ method, status: r.status }).toEqual({ method, status: 401 })
        expect(r.headers.get('www-authenticate')).toBe('Bearer')
        expect(r.body.type).toBe(problemTypeUri('unauthorized'))
      }
    }
    expect((await p.call('GET', `/api/products/${a.id}`)).body.name).toBe('Widget')
    expect((await p.call('GET', '/api/products')).body.items).toHaveLength(1)
  })

  test('a plain user gets 403 on every admin route, and nothing changes', async () => {
    const a = await p.create()
    const user = await p.token('user', { username: 'bob' })
    for (const [method, path, body] of adminCalls(a.id)) {
      const r = await p.call(method, path, { token: user, body })
      expect({ method, status: r.status }).toEqual({ method, status: 403 })
      expect(r.body.type).toBe(problemTypeUri('forbidden'))
    }
    expect((await p.call('GET', `/api/products/${a.id}`)).body.name).toBe('Widget')
    expect((await p.call('GET', '/api/products')).body.items).toHaveLength(1)
  })

  test('access is checked before validation: an invalid body from a non-admin is 401/403, not 422', async () => {
    const user = await p.token('user')
    const bad = { price: { amount: -1, currency: 'x' } }
    expect((await p.call('POST', '/api/products', { body: bad })).status).toBe(401)
    expect((await p.call('POST', '/api/products', { token: user, body: bad })).status).toBe(403)
  })

  test('reading needs no token, and a token does not hurt', async () => {
    const a = await p.create()
    const user = await p.token('user')
    expect((await p.call('GET', '/api/products')).status).toBe(200)
    expect((await p.call('GET', `/api/products/${a.id}`, { token: user })).status).toBe(200)
  })
})
