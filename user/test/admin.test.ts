import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { ADMIN, startUser, type UserHarness } from './support.ts'

let u: UserHarness
let admin: string
beforeEach(async () => {
  u = await startUser()
  admin = await u.adminToken()
})
afterEach(() => u.stop())

const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000'

type Listed = { id: string; username: string; email: string; role: string; disabled: boolean }

/** Every account the admin list gives for `query`, following nextCursor page by page. */
async function listAll(query: string, pageSize: number) {
  const pages: Listed[][] = []
  let cursor: string | null = null
  for (let i = 0; i < 50; i++) {
    const qs: string = `limit=${pageSize}${query ? `&${query}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const r = await u.call('GET', `/api/users?${qs}`, { token: admin })
    expect(r.status).toBe(200)
    expect(r.body.items.length).toBeLessThanOrEqual(pageSize)
    pages.push(r.body.items)
    cursor = r.body.nextCursor
    if (cursor === null) return pages
    expect(typeof cursor).toBe('string')
  }
  throw new Error('nextCursor never became null')
}

const adminOf = async () => {
  const root = await u.call('GET', '/api/users?q=root', { token: admin })
  return root.body.items[0] as Listed
}

describe('admin routes refuse everyone else', () => {
  test('a plain user gets 403 on every admin route, and nothing changes', async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    const rootId = (await adminOf()).id
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/users'],
      ['GET', `/api/users/${bob.id}`],
      ['PATCH', `/api/users/${bob.id}`, { role: 'admin' }],
      ['PATCH', `/api/users/${rootId}`, { disabled: true }],
      ['DELETE', `/api/users/${rootId}`],
    ]
    for (const [method, path, body] of calls) {
      const r = await u.call(method, path, { token: accessToken, body })
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 403 })
      expect(r.body.type).toBe(problemTypeUri('forbidden'))
    }
    expect((await u.call('GET', `/api/users/${bob.id}`, { token: admin })).body).toMatchObject({
      role: 'user',
      disabled: false,
    })
    expect((await u.call('GET', `/api/users/${rootId}`, { token: admin })).body).toMatchObject({
      role: 'admin',
      disabled: false,
    })
  })

  test('no token or a bad one gets 401 with WWW-Authenticate: Bearer on every admin route', async () => {
    const bob = await u.register('bob')
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/users'],
      ['GET', `/api/users/${bob.id}`],
      ['PATCH', `/api/users/${bob.id}`, { role: 'admin' }],
      ['DELETE', `/api/users/${bob.id}`],
    ]
    for (const token of [undefined, 'not-a-jwt']) {
      for (const [method, path, body] of calls) {
        const r = await u.call(method, path, { token, body })
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 401 })
        expect(r.headers.get('www-authenticate')).toBe('Bearer')
        expect(r.body.type).toBe(problemTypeUri('unauthorized'))
      }
    }
    expect((await u.call('GET', `/api/users/${bob.id}`, { token: admin })).body.role).toBe('user')
  })
})

describe('the guard comes before the input check', () => {
  // Otherwise a client without the right to call a route learns its input schema (422s) from it.
  test('no token: 401, and a plain user: 403, even with an invalid id, body or query', async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/users?limit=0'],
      ['GET', '/api/users/not-a-uuid'],
      ['PATCH', `/api/users/${bob.id}`, { role: 'superuser' }],
      ['DELETE', '/api/users/not-a-uuid'],
    ]
    for (const [method, path, body] of calls) {
      const anonymous = await u.call(method, path, { body })
      expect({ method, path, status: anonymous.status }).toEqual({ method, path, status: 401 })
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
      const user = await u.call(method, path, { token: accessToken, body })
      expect({ method, path, status: user.status }).toEqual({ method, path, status: 403 })
    }
    const me = await u.call('PATCH', '/api/users/me', { body: { username: 'x' } })
    expect(me.status).toBe(401)
  })
})

describe('GET /api/users', () => {
  test('pages through every account exactly once, in creation order', async () => {
    const names = ['user1', 'user2', 'user3', 'user4', 'user5', 'user6', 'user7']
    for (const n of names) await u.register(n)
    const pages = await listAll('', 3)
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2])
    const seen = pages.flat()
    expect(seen.map((x) => x.username)).toEqual([ADMIN.username, ...names])
    expect(new Set(seen.map((x) => x.id)).size).toBe(8)
    expect(JSON.stringify(pages)).not.toContain('argon2')
    expect(JSON.stringify(pages)).not.toContain('passwordHash')
  })

  test('a last page that is exactly full has nextCursor null (no empty page after it)', async () => {
    for (const n of ['user1', 'user2', 'user3', 'user4', 'user5']) await u.register(n)
    const pages = await listAll('', 3)
    expect(pages.map((p) => p.length)).toEqual([3, 3])
  })

  test('the default page answers every account when there are few', async () => {
    await u.register('user1')
    const r = await u.call('GET', '/api/users', { token: admin })
    expect(r.status).toBe(200)
    expect(r.body.items.map((x: Listed) => x.username)).toEqual([ADMIN.username, 'user1'])
    expect(r.body.nextCursor).toBeNull()
  })

  test('q filters by a username or email substring, case-insensitively', async () => {
    await u.register('alice', 'password-123', 'alice@wonder.land')
    await u.register('Bob', 'password-123', 'bob@Example.ORG')
    await u.register('carol', 'password-123', 'carol@example.com')
    const names = async (q: string) => {
      const r = await u.call('GET', `/api/users?q=${encodeURIComponent(q)}`, { token: admin })
      expect(r.status).toBe(200)
      return r.body.items.map((x: Listed) => x.username)
    }
    expect(await names('ALI')).toEqual(['alice'])
    expect(await names('bob')).toEqual(['Bob'])
    expect(await names('example.org')).toEqual(['Bob'])
    expect(await names('WONDER')).toEqual(['alice'])
    expect(await names('example')).toEqual(['Bob', 'carol'])
    expect(await names('nobody-has-this')).toEqual([])
  })

  test('q treats % and _ literally, not as LIKE wildcards', async () => {
    await u.register('under_score', 'password-123', 'under@example.com')
    await u.register('underXscore', 'password-123', 'plain@example.com')
    await u.register('percent', 'password-123', 'pct@example.com')
    const names = async (q: string) => {
      const r = await u.call('GET', `/api/users?q=${encodeURIComponent(q)}`, { token: admin })
      expect(r.status).toBe(200)
      return r.body.items.map((x: Listed) => x.username)
    }
    // As wildcards, "_" would match every account and "r_s" both under* accounts.
    expect(await names('_')).toEqual(['under_score'])
    expect(await names('r_s')).toEqual(['under_score'])
    // Neither usernames nor the accepted emails hold a "%": as a wildcard it would match everyone.
    expect(await names('%')).toEqual([])
    expect(await names('per%cent')).toEqual([])
    expect(await names('%@%')).toEqual([])
    expect(await names('\\')).toEqual([])
  })

  test('q and pagination together', async () => {
    for (const n of ['team.a', 'solo', 'team.b', 'team.c', 'other']) await u.register(n)
    const pages = await listAll('q=TEAM', 2)
    expect(pages.map((p) => p.map((x) => x.username))).toEqual([['team.a', 'team.b'], ['team.c']])
  })

  test('a cursor that is not from the list: 422 naming /query/cursor', async () => {
    for (const cursor of ['garbage', Buffer.from('not-an-id').toString('base64url'), '!!!']) {
      const r = await u.call('GET', `/api/users?cursor=${encodeURIComponent(cursor)}`, { token: admin })
      expect(r.status).toBe(422)
      expect(r.body.type).toBe(problemTypeUri('validation'))
      expect(r.body.errors.map((e: { path: string }) => e.path)).toContain('/query/cursor')
    }
  })

  test.each(['0', '101', '-1', 'abc', '2.5'])('limit=%s: 422', async (limit) => {
    const r = await u.call('GET', `/api/users?limit=${limit}`, { token: admin })
    expect(r.status).toBe(422)
    expect(r.body.type).toBe(problemTypeUri('validation'))
  })

  test('limit is decimal digits: 0x10, 1e1 and padded numbers are a 422 naming /query/limit', async () => {
    for (const limit of ['0x10', '1e1', '%20%205', '+5']) {
      const r = await u.call('GET', `/api/users?limit=${limit}`, { token: admin })
      expect({ limit, status: r.status }).toEqual({ limit, status: 422 })
      expect(r.body.errors).toEqual([
        { path: '/query/limit', message: 'must be an integer in decimal digits' },
      ])
    }
  })

  test('limit 1 and 100 are accepted', async () => {
    for (const limit of [1, 100]) {
      expect((await u.call('GET', `/api/users?limit=${limit}`, { token: admin })).status).toBe(200)
    }
  })
})

describe('GET /api/users/:id', () => {
  test('200 with the account, 404 for an unknown id, 422 for a non-uuid', async () => {
    const bob = await u.register('bob')
    const r = await u.call('GET', `/api/users/${bob.id}`, { token: admin })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      id: bob.id,
      username: 'bob',
      email: 'bob@example.com',
      role: 'user',
      disabled: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect(r.text).not.toContain('argon2')

    const unknown = await u.call('GET', `/api/users/${UNKNOWN_ID}`, { token: admin })
    expect(unknown.status).toBe(404)
    expect(unknown.body.type).toBe(problemTypeUri('not-found'))

    const bad = await u.call('GET', '/api/users/not-a-uuid', { token: admin })
    expect(bad.status).toBe(422)
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toContain('/params/id')
  })
})

describe('PATCH /api/users/:id', () => {
  test('changes role and disabled; the body and later reads reflect it', async () => {
    const bob = await u.register('bob')
    const promoted = await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    expect(promoted.status).toBe(200)
    expect(promoted.body).toMatchObject({ id: bob.id, username: 'bob', role: 'admin', disabled: false })
    const disabled = await u.call('PATCH', `/api/users/${bob.id}`, {
      token: admin,
      body: { disabled: true, role: 'user' },
    })
    expect(disabled.status).toBe(200)
    expect(disabled.body).toMatchObject({ id: bob.id, role: 'user', disabled: true })
    expect((await u.call('GET', `/api/users/${bob.id}`, { token: admin })).body).toMatchObject({
      role: 'user',
      disabled: true,
    })
  })

  test('a promoted user gets the admin role in the tokens of their next login', async () => {
    const bob = await u.register('bob')
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    const { accessToken } = await u.login('bob')
    expect((await u.call('GET', '/api/users', { token: accessToken })).status).toBe(200)
  })

  test('a refresh after a role change carries the new role', async () => {
    const bob = await u.register('bob')
    const session = await u.login('bob')
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    const r = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })
    expect(r.status).toBe(200)
    expect((await u.call('GET', '/api/users', { token: r.body.accessToken })).status).toBe(200)
  })

  test('422 for a bad role, a non-boolean disabled or a non-uuid id; 404 for an unknown id', async () => {
    const bob = await u.register('bob')
    for (const body of [{ role: 'superuser' }, { disabled: 'yes' }]) {
      const r = await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body })
      expect(r.status).toBe(422)
    }
    expect((await u.call('PATCH', '/api/users/nope', { token: admin, body: { role: 'user' } })).status).toBe(
      422,
    )
    const unknown = await u.call('PATCH', `/api/users/${UNKNOWN_ID}`, {
      token: admin,
      body: { role: 'user' },
    })
    expect(unknown.status).toBe(404)
    expect((await u.call('GET', `/api/users/${bob.id}`, { token: admin })).body).toMatchObject({
      role: 'user',
      disabled: false,
    })
  })

  test('a disabled user can neither log in nor refresh a session from before; re-enabled, they log in again', async () => {
    const bob = await u.register('bob')
    const before = await u.login('bob')
    const r = await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { disabled: true } })
    expect(r.status).toBe(200)

    const login = await u.call('POST', '/api/auth/login', {
      body: { username: 'bob', password: 'password-123' },
    })
    expect(login.status).toBe(401)
    // The same answer as a wrong password: no hint that the account exists.
    expect(login.body.detail).toBe('wrong username, email or password')
    const form = await u.call('POST', '/api/auth/token', {
      form: { username: 'bob', password: 'password-123' },
    })
    expect(form.status).toBe(401)
    const refresh = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: before.refreshToken } })
    expect(refresh.status).toBe(401)
    expect(refresh.headers.get('www-authenticate')).toBe('Bearer')

    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { disabled: false } })
    expect(
      (await u.call('POST', '/api/auth/login', { body: { username: 'bob', password: 'password-123' } }))
        .status,
    ).toBe(200)
  })
})

describe('DELETE /api/users/:id', () => {
  test('204; then the user can neither log in nor refresh, and GET answers 404', async () => {
    const bob = await u.register('bob')
    const before = await u.login('bob')
    const r = await u.call('DELETE', `/api/users/${bob.id}`, { token: admin })
    expect(r.status).toBe(204)
    expect(r.text).toBe('')

    expect(
      (await u.call('POST', '/api/auth/login', { body: { username: 'bob', password: 'password-123' } }))
        .status,
    ).toBe(401)
    const refresh = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: before.refreshToken } })
    expect(refresh.status).toBe(401)
    expect((await u.call('GET', `/api/users/${bob.id}`, { token: admin })).status).toBe(404)
    expect((await u.call('DELETE', `/api/users/${bob.id}`, { token: admin })).status).toBe(404)
    // The name is free again.
    expect((await u.register('bob')).id).not.toBe(bob.id)
  })

  test('404 for an unknown id, 422 for a non-uuid', async () => {
    expect((await u.call('DELETE', `/api/users/${UNKNOWN_ID}`, { token: admin })).status).toBe(404)
    expect((await u.call('DELETE', '/api/users/nope', { token: admin })).status).toBe(422)
  })
})

describe('the last admin', () => {
  test('with a single admin, demoting, disabling or deleting it: 409 and nothing changes', async () => {
    const root = await adminOf()
    for (const [method, body] of [
      ['PATCH', { role: 'user' }],
      ['PATCH', { disabled: true }],
      ['PATCH', { role: 'user', disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const r = await u.call(method, `/api/users/${root.id}`, { token: admin, body })
      expect({ method, body, status: r.status }).toEqual({ method, body, status: 409 })
      expect(r.body.type).toBe(problemTypeUri('conflict'))
    }
    expect((await u.call('GET', `/api/users/${root.id}`, { token: admin })).body).toMatchObject({
      role: 'admin',
      disabled: false,
    })
    expect((await u.login(ADMIN.username, ADMIN.password)).accessToken).toBeTruthy()
  })

  test('a disabled second admin does not count: the active one is still the last', async () => {
    const root = await adminOf()
    const bob = await u.register('bob')
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    expect(
      (await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { disabled: true } })).status,
    ).toBe(200)
    expect(
      (await u.call('PATCH', `/api/users/${root.id}`, { token: admin, body: { role: 'user' } })).status,
    ).toBe(409)
    expect((await u.call('DELETE', `/api/users/${root.id}`, { token: admin })).status).toBe(409)
  })

  test('after promoting a second admin, the first can be demoted; the second is then the last', async () => {
    const root = await adminOf()
    const bob = await u.register('bob')
    expect(
      (await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })).status,
    ).toBe(200)
    const demoted = await u.call('PATCH', `/api/users/${root.id}`, { token: admin, body: { role: 'user' } })
    expect(demoted.status).toBe(200)
    expect(demoted.body).toMatchObject({ id: root.id, role: 'user' })

    const bobToken = (await u.login('bob')).accessToken
    expect(
      (await u.call('PATCH', `/api/users/${bob.id}`, { token: bobToken, body: { role: 'user' } })).status,
    ).toBe(409)
    expect((await u.call('DELETE', `/api/users/${bob.id}`, { token: bobToken })).status).toBe(409)
    // The former admin's next login carries the user role.
    const rootToken = (await u.login(ADMIN.username, ADMIN.password)).accessToken
    expect((await u.call('GET', '/api/users', { token: rootToken })).status).toBe(403)
  })

  test('with two admins, one can be deleted', async () => {
    const root = await adminOf()
    const bob = await u.register('bob')
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    const bobToken = (await u.login('bob')).accessToken
    expect((await u.call('DELETE', `/api/users/${root.id}`, { token: bobToken })).status).toBe(204)
    expect((await u.call('GET', `/api/users/${root.id}`, { token: bobToken })).status).toBe(404)
  })
})
