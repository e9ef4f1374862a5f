// Who did what, from where: the access line names the verified user and the client address, and
// admin actions and refused access leave an audit line.
import { afterAll, describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { t } from 'elysia'
import {
  authGuards,
  BaseConfig,
  createHttpApp,
  createLogger,
  loadConfig,
  startEmbedded,
  verifierFromConfig,
} from '../src/index.ts'
import { devTokenSigner, tempDir, waitFor } from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

type Line = Record<string, unknown>

function logSink() {
  const lines: Line[] = []
  const stream = new Writable({
    write(chunk, _enc, next) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
      next()
    },
  })
  return { lines, log: createLogger({ service: 'demo', level: 'info', destination: stream }) }
}

async function setup(trustProxy: boolean) {
  const { lines, log } = logSink()
  const verifier = await verifierFromConfig(
    loadConfig('demo', BaseConfig, { NODE_ENV: 'test', DATA_DIR: tmp.dir }),
  )
  const sign = await devTokenSigner(tmp.dir)
  const app = createHttpApp({ service: 'demo', log, bodyLimit: 2048, ready: () => true, trustProxy })
    .use(authGuards(verifier))
    .get('/api/public', () => ({ ok: true }))
    .get('/api/me', ({ user }) => ({ id: user.id }), { requireUser: true })
    .get('/api/things', () => [], { requireAdmin: true })
    .post(
      '/api/things',
      ({ body, set }) => {
        set.status = 201
        return body
      },
      { requireAdmin: true, body: t.Object({ name: t.String({ minLength: 3 }) }) },
    )
    .delete(
      '/api/things/:id',
      ({ set }) => {
        set.status = 204
      },
      { requireAdmin: true },
    )
  const ids = { admin: crypto.randomUUID(), user: crypto.randomUUID() }
  const tokens = {
    admin: await sign('admin', { sub: ids.admin }),
    user: await sign('user', { sub: ids.user }),
  }
  const call = async (method: string, path: string, init: { token?: string; body?: unknown } = {}) => {
    const requestId = crypto.randomUUID()
    const headers: Record<string, string> = {
      'x-request-id': requestId,
      'x-forwarded-for': '198.51.100.1, 203.0.113.7',
    }
    if (init.token) headers.authorization = `Bearer ${init.token}`
    if (init.body !== undefined) headers['content-type'] = 'application/json'
    const res = await app.handle(
      new Request(`http://mart.test${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      }),
    )
    // The access line is written once the answer is out.
    const access = await waitFor(
      () => lines.find((l) => l.msg === 'request' && l.requestId === requestId),
      'access',
    )
    const audits = lines.filter((l) => l.audit !== undefined && l.requestId === requestId)
    return { status: res.status, requestId, access, audits }
  }
  return { call, ids, tokens, lines }
}

describe('access lines', () => {
  test('carry the verified user id and the client address (the last X-Forwarded-For hop behind a proxy)', async () => {
    const { call, ids, tokens } = await setup(true)
    const me = await call('GET', '/api/me', { token: tokens.user })
    expect(me.status).toBe(200)
    expect(me.access).toMatchObject({ userId: ids.user, address: '203.0.113.7', status: 200 })
    const anonymous = await call('GET', '/api/public', { token: tokens.user })
    expect(anonymous.access.address).toBe('203.0.113.7')
    // No guard on the route: the token was never verified, so no user is named.
    expect(anonymous.access.userId).toBeUndefined()
  })

  test('without TRUST_PROXY, X-Forwarded-For is the client talking, not a proxy: the socket peer is', async () => {
    const { lines, log } = logSink()
    const app = createHttpApp({ service: 'demo', log, bodyLimit: 2048, ready: () => true, trustProxy: false })
      .get('/api/public', () => ({ ok: true }))
      .listen({ hostname: '127.0.0.1', port: 0 })
    try {
      await fetch(`http://127.0.0.1:${app.server?.port}/api/public`, {
        headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'direct-1' },
      })
      const access = await waitFor(() => lines.find((l) => l.requestId === 'direct-1'), 'access')
      expect(access.address).toBe('127.0.0.1')
    } finally {
      await app.stop()
    }
  })
})

describe('audit lines', () => {
  test('every successful admin change: admin.request with method, path, status, actor, address, request id', async () => {
    const { call, ids, tokens } = await setup(true)
    const created = await call('POST', '/api/things', { token: tokens.admin, body: { name: 'lamp' } })
    expect(created.status).toBe(201)
    expect(created.audits).toEqual([
      expect.objectContaining({
        level: 30,
        audit: 'admin.request',
        method: 'POST',
        path: '/api/things',
        status: 201,
        actor: ids.admin,
        address: '203.0.113.7',
        requestId: created.requestId,
      }),
    ])
    const deleted = await call('DELETE', '/api/things/t1', { token: tokens.admin })
    expect(deleted.audits).toEqual([
      expect.objectContaining({ audit: 'admin.request', method: 'DELETE', status: 204 }),
    ])
  })

  test('not for admin reads, nor for an admin change that failed', async () => {
    const { call, tokens } = await setup(true)
    expect((await call('GET', '/api/things', { token: tokens.admin })).audits).toEqual([])
    const invalid = await call('POST', '/api/things', { token: tokens.admin, body: { name: 'x' } })
    expect(invalid.status).toBe(422)
    expect(invalid.audits).toEqual([])
  })

  test('a user on an admin route: 403 and admin.refused naming them', async () => {
    const { call, ids, tokens } = await setup(true)
    const r = await call('DELETE', '/api/things/t1', { token: tokens.user })
    expect(r.status).toBe(403)
    expect(r.audits).toEqual([
      expect.objectContaining({
        audit: 'admin.refused',
        actor: ids.user,
        method: 'DELETE',
        path: '/api/things/t1',
        status: 403,
        address: '203.0.113.7',
      }),
    ])
  })

  test('no token, a forged one or one for another audience on a guarded route: 401 and auth.token_refused', async () => {
    const { call, tokens } = await setup(true)
    const sign = await devTokenSigner(tmp.dir)
    for (const token of [
      undefined,
      `${tokens.admin.slice(0, -4)}AAAA`,
      await sign('admin', { aud: 'elsewhere' }),
    ]) {
      const r = await call('POST', '/api/things', { token, body: { name: 'lamp' } })
      expect(r.status).toBe(401)
      expect(r.audits).toEqual([
        expect.objectContaining({
          audit: 'auth.token_refused',
          method: 'POST',
          path: '/api/things',
          status: 401,
          address: '203.0.113.7',
          reason: expect.any(String),
        }),
      ])
      expect(r.audits[0]?.actor).toBeUndefined()
      expect(JSON.stringify(r.audits)).not.toContain(token ?? 'Bearer')
    }
    // A public route needs no token: nothing was refused.
    expect((await call('GET', '/api/public', { token: 'garbage' })).audits).toEqual([])
  })
})

test('behind the embedded listener the address is the socket peer, whatever X-Forwarded-For the client sent', async () => {
  const { lines, log } = logSink()
  const dir = tempDir()
  const mart = await startEmbedded([definition], { env: { DATA_DIR: dir.dir }, port: 0, log })
  try {
    const res = await fetch(`${mart.url}/api/products/seen/x`, {
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'spoof-1' },
    })
    expect(res.status).toBe(404)
    const access = await waitFor(
      () => lines.find((l) => l.msg === 'request' && l.requestId === 'spoof-1'),
      'access',
    )
    expect(access.address).toBe('127.0.0.1')
  } finally {
    await mart.stop()
    dir.cleanup()
  }
})
