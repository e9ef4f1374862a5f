import { afterEach, beforeEach, describe, expect, setSystemTime, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { ADMIN, startUser, tally, type UserHarness } from './support.ts'

let u: UserHarness
beforeEach(async () => {
  u = await startUser()
})
afterEach(async () => {
  setSystemTime()
  await u.stop()
})

describe('POST /api/auth/register', () => {
  test('creates a user account and never returns the password or its hash', async () => {
    const r = await u.call('POST', '/api/auth/register', {
      body: { username: 'alice', email: 'Alice@Example.com', password: 'wonderland' },
    })
    expect(r.status).toBe(201)
    expect(r.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'alice',
      email: 'Alice@Example.com',
      role: 'user',
      disabled: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect(r.text).not.toContain('wonderland')
    expect(r.text).not.toContain('argon2')
  })

  test('cannot be used to become an admin: extra fields are ignored', async () => {
    const r = await u.call('POST', '/api/auth/register', {
      body: {
        username: 'mallory',
        email: 'mallory@example.com',
        password: 'password-123',
        role: 'admin',
        disabled: true,
      },
    })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ role: 'user', disabled: false })
  })

  test('answers 409 when the username or the email is taken, whatever the case', async () => {
    await u.register('alice', 'password-123', 'alice@example.com')
    const sameName = await u.call('POST', '/api/auth/register', {
      body: { username: 'ALICE', email: 'other@example.com', password: 'password-123' },
    })
    expect(sameName.status).toBe(409)
    expect(sameName.body).toMatchObject({
      type: problemTypeUri('conflict'),
      detail: 'that username is taken',
    })
    const sameEmail = await u.call('POST', '/api/auth/register', {
      body: { username: 'alice2', email: 'ALICE@example.COM', password: 'password-123' },
    })
    expect(sameEmail.status).toBe(409)
    expect(sameEmail.body.detail).toBe('that email is taken')
  })

  test.each([
    ['a bad email', { username: 'bob', email: 'not-an-email', password: 'password-123' }, '/body/email'],
    [
      'a short username',
      { username: 'bo', email: 'bob@example.com', password: 'password-123' },
      '/body/username',
    ],
    [
      'a long username',
      { username: 'b'.repeat(33), email: 'bob@example.com', password: 'password-123' },
      '/body/username',
    ],
    [
      'a username with spaces',
      { username: 'bob smith', email: 'bob@example.com', password: 'password-123' },
      '/body/username',
    ],
    ['a short password', { username: 'bob', email: 'bob@example.com', password: 'short' }, '/body/password'],
    [
      'a long password',
      { username: 'bob', email: 'bob@example.com', password: 'p'.repeat(129) },
      '/body/password',
    ],
  ])('answers 422 for %s and creates nothing', async (_what, body, path) => {
    const r = await u.call('POST', '/api/auth/register', { body })
    expect(r.status).toBe(422)
    expect(r.headers.get('content-type')).toBe('application/problem+json')
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path)
    expect(r.text).not.toContain(String(body.password))
    // Nothing was created: the seeded admin is still the only account.
    expect(u.svc.store.sqlite.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 1 })
  })
})

describe('registration limits', () => {
  const registration = (username: string, from: string, email = `${username}@example.com`) => ({
    body: { username, email, password: 'password-123' },
    headers: { 'x-forwarded-for': from },
  })
  const accounts = () => u.svc.store.sqlite.prepare('SELECT count(*) AS n FROM users').get()

  test('by default 10 an hour per address, a taken email among them; the 11th is 429 and creates nothing', async () => {
    await u.stop()
    // The harness raises the limit for suites that register many users: '' keeps the default.
    u = await startUser({ TRUST_PROXY: 'true', REGISTER_MAX_PER_ADDRESS: '' })
    const from = '203.0.113.9'
    for (let i = 0; i < 9; i++) {
      expect((await u.call('POST', '/api/auth/register', registration(`user${i}`, from))).status).toBe(201)
    }
    const taken = await u.call('POST', '/api/auth/register', registration('other', from, 'user0@example.com'))
    expect(taken.status).toBe(409)
    expect(accounts()).toEqual({ n: 10 })

    const limited = await u.call('POST', '/api/auth/register', registration('user10', from))
    expect(limited.status).toBe(429)
    expect(limited.body.type).toBe(problemTypeUri('too-many-requests'))
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(3000)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(accounts()).toEqual({ n: 10 })
    // Another address is not affected.
    expect((await u.call('POST', '/api/auth/register', registration('user10', '203.0.113.10'))).status).toBe(
      201,
    )
  })

  test('parallel registrations from one address: exactly the limit are hashed and created', async () => {
    await u.stop()
    u = await startUser({ REGISTER_MAX_PER_ADDRESS: '3' })
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        u.call('POST', '/api/auth/register', {
          body: { username: `racer${i}`, email: `racer${i}@example.com`, password: 'password-123' },
        }),
      ),
    )
    expect(tally(answers.map((r) => r.status))).toEqual({ 201: 3, 429: 9 })
    expect(accounts()).toEqual({ n: 4 })
  })
})

describe('password hashing is bounded', () => {
  // The service's own argon2id cost, so that a hash takes long enough to queue others behind it.
  const realCost = { PASSWORD_MEMORY_KIB: '', PASSWORD_TIME_COST: '' }
  const registration = (i: number) =>
    u.call('POST', '/api/auth/register', {
      body: { username: `queued${i}`, email: `queued${i}@example.com`, password: 'password-123' },
    })
  const accounts = () => u.svc.store.sqlite.prepare('SELECT count(*) AS n FROM users').get()

  test('beyond the queue a registration is a 503 with Retry-After, and creates nothing', async () => {
    await u.stop()
    u = await startUser({ ...realCost, PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' })
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => registration(i)))
    // One hashing, one waiting; the other four are turned away before hashing anything.
    expect(tally(answers.map((r) => r.status))).toEqual({ 201: 2, 503: 4 })
    for (const r of answers.filter((a) => a.status === 503)) {
      expect(r.headers.get('content-type')).toBe('application/problem+json')
      expect(r.body.type).toBe(problemTypeUri('unavailable'))
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    expect(accounts()).toEqual({ n: 3 })
  })

  test('a login is served before the registrations queued ahead of it', async () => {
    await u.stop()
    u = await startUser({ ...realCost, PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '8' })
    const done: string[] = []
    const registrations = Array.from({ length: 4 }, (_, i) =>
      registration(i).then((r) => done.push(`register ${r.status}`)),
    )
    const login = u.login(ADMIN.username, ADMIN.password).then(() => done.push('login'))
    await Promise.all([...registrations, login])
    // At most the registration already hashing finishes first.
    expect(done.indexOf('login')).toBeLessThanOrEqual(1)
    expect(done.filter((d) => d === 'register 201')).toHaveLength(4)
  })

  test('a login still gets in when registrations fill the queue: the newest one waiting is turned away', async () => {
    await u.stop()
    u = await startUser({ ...realCost, PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '2' })
    const registrations = Promise.all(Array.from({ length: 3 }, (_, i) => registration(i)))
    const login = await u.call('POST', '/api/auth/login', {
      body: { username: ADMIN.username, password: ADMIN.password },
    })
    expect(login.status).toBe(200)
    expect(tally((await registrations).map((r) => r.status))).toEqual({ 201: 2, 503: 1 })
    expect(accounts()).toEqual({ n: 3 })
  })
})

describe('POST /api/auth/login', () => {
  beforeEach(async () => {
    await u.register('carol', 'carol-password')
  })

  test('by username or by email answers a token pair', async () => {
    for (const body of [
      { username: 'carol', password: 'carol-password' },
      { username: 'CAROL', password: 'carol-password' },
      { email: 'carol@example.com', password: 'carol-password' },
    ]) {
      const r = await u.call('POST', '/api/auth/login', { body })
      expect(r.status).toBe(200)
      expect(r.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        deviceToken: expect.any(String),
      })
    }
  })

  test('answers 401 with one message for every wrong-credential case', async () => {
    const wrongPassword = await u.call('POST', '/api/auth/login', {
      body: { username: 'carol', password: 'nope-nope' },
    })
    const noSuchUser = await u.call('POST', '/api/auth/login', {
      body: { username: 'nobody', password: 'nope-nope' },
    })
    const noSuchEmail = await u.call('POST', '/api/auth/login', {
      body: { email: 'x@example.com', password: 'nope' },
    })
    for (const r of [wrongPassword, noSuchUser, noSuchEmail]) {
      expect(r.status).toBe(401)
      expect(r.body.detail).toBe('wrong username, email or password')
    }
  })

  test('a body of 50,000 nested arrays is a 400 problem, without a token or a password check', async () => {
    const r = await u.call('POST', '/api/auth/login', {
      rawJson: `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
    })
    expect(r.status).toBe(400)
    expect(r.headers.get('content-type')).toBe('application/problem+json')
    expect(r.body).toMatchObject({
      type: problemTypeUri('bad-request'),
      detail: 'the JSON body is nested deeper than 64 levels',
    })
  })

  test('answers 422 unless exactly one of username and email is given', async () => {
    expect((await u.call('POST', '/api/auth/login', { body: { password: 'carol-password' } })).status).toBe(
      422,
    )
    const both = await u.call('POST', '/api/auth/login', {
      body: { username: 'carol', email: 'carol@example.com', password: 'carol-password' },
    })
    expect(both.status).toBe(422)
  })
})

describe('login rate limits', () => {
  test('per account: after 5 failures even the right password gets 429 with Retry-After', async () => {
    await u.register('dave', 'dave-password')
    for (let i = 0; i < 5; i++) {
      expect(
        (await u.call('POST', '/api/auth/login', { body: { username: 'dave', password: 'guess-guess' } }))
          .status,
      ).toBe(401)
    }
    const limited = await u.call('POST', '/api/auth/login', {
      body: { username: 'dave', password: 'dave-password' },
    })
    expect(limited.status).toBe(429)
    expect(limited.body.type).toBe(problemTypeUri('too-many-requests'))
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another account is not affected.
    await u.register('erin', 'erin-password')
    expect(
      (await u.call('POST', '/api/auth/login', { body: { username: 'erin', password: 'erin-password' } }))
        .status,
    ).toBe(200)
  })

  test('25 parallel wrong passwords for one account: exactly the allowed 5 are checked, the rest are 429', async () => {
    await u.register('dave', 'dave-password')
    const answers = await Promise.all(
      Array.from({ length: 25 }, () =>
        u.call('POST', '/api/auth/login', { body: { username: 'dave', password: 'guess-guess' } }),
      ),
    )
    expect(tally(answers.map((r) => r.status))).toEqual({ 401: 5, 429: 20 })
    for (const r of answers.filter((a) => a.status === 429)) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    }
  })

  test('per client address behind the gateway', async () => {
    await u.stop()
    u = await startUser({ TRUST_PROXY: 'true', LOGIN_MAX_PER_ADDRESS: '3' })
    await u.register('frank', 'frank-password')
    const from = (ip: string) => ({
      body: { username: 'frank', password: 'frank-password' },
      headers: { 'x-forwarded-for': ip },
    })
    for (let i = 0; i < 3; i++)
      expect((await u.call('POST', '/api/auth/login', from('203.0.113.7'))).status).toBe(200)
    const limited = await u.call('POST', '/api/auth/login', from('203.0.113.7'))
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeTruthy()
    expect((await u.call('POST', '/api/auth/login', from('203.0.113.8'))).status).toBe(200)
  })
})

describe('POST /api/auth/token (OAuth2 password form)', () => {
  test('answers access_token, token_type and expires_in for a username or an email', async () => {
    for (const username of [ADMIN.username, ADMIN.email]) {
      const r = await u.call('POST', '/api/auth/token', {
        form: { grant_type: 'password', username, password: ADMIN.password },
      })
      expect(r.status).toBe(200)
      expect(r.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 900 })
      const me = await u.call('GET', '/api/users/me', { token: r.body.access_token })
      expect(me.body.username).toBe(ADMIN.username)
    }
  })

  test('takes the request Swagger UI sends from "Authorize" (an empty client in Basic auth)', async () => {
    const r = await u.call('POST', '/api/auth/token', {
      form: { grant_type: 'password', username: ADMIN.username, password: ADMIN.password },
      headers: { authorization: 'Basic Og==', 'x-requested-with': 'XMLHttpRequest' },
    })
    expect(r.status).toBe(200)
    expect(r.body.token_type).toBe('bearer')
  })

  test('answers 401 for a wrong password', async () => {
    const r = await u.call('POST', '/api/auth/token', {
      form: { username: ADMIN.username, password: 'wrong-password' },
    })
    expect(r.status).toBe(401)
  })

  test('takes the form only (as OAuth2 says): JSON is a 415, and /docs shows the form alone', async () => {
    const r = await u.call('POST', '/api/auth/token', {
      body: { username: ADMIN.username, password: ADMIN.password },
    })
    expect(r.status).toBe(415)
    expect(r.body.detail).toBe('send the body as application/x-www-form-urlencoded')
    const docs = await u.call('GET', '/docs/json')
    expect(Object.keys(docs.body.paths['/api/auth/token'].post.requestBody.content)).toEqual([
      'application/x-www-form-urlencoded',
    ])
  })
})

describe('refresh tokens', () => {
  test('a refresh gives a new pair, which refreshes in turn', async () => {
    await u.register('gina')
    const first = await u.login('gina')
    const r = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: first.refreshToken } })
    expect(r.status).toBe(200)
    expect(r.body.refreshToken).not.toBe(first.refreshToken)
    expect((await u.call('GET', '/api/users/me', { token: r.body.accessToken })).status).toBe(200)
    const again = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: r.body.refreshToken } })
    expect(again.status).toBe(200)
  })

  test('presenting an already-rotated token after the grace window revokes the whole family', async () => {
    await u.register('hank')
    const first = await u.login('hank')
    const second = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: first.refreshToken } })
    // REFRESH_REUSE_GRACE_SECONDS is 5 by default.
    setSystemTime(new Date(Date.now() + 6_000))
    const replay = await u.call('POST', '/api/auth/refresh', { body: { refreshToken: first.refreshToken } })
    expect(replay.status).toBe(401)
    expect(replay.headers.get('www-authenticate')).toBe('Bearer')
    // The thief's replay also ends the legitimate holder's session.
    const victim = await u.call('POST', '/api/auth/refresh', {
      body: { refreshToken: second.body.refreshToken },
    })
    expect(victim.status).toBe(401)
    // Another login is a new family and works.
    const fresh = await u.login('hank')
    expect(
      (await u.call('POST', '/api/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).status,
    ).toBe(200)
  })

  test('parallel refreshes with the same token all succeed, and every refresh token they answer works', async () => {
    await u.register('hank')
    const { refreshToken } = await u.login('hank')
    const refresh = (token: string) => u.call('POST', '/api/auth/refresh', { body: { refreshToken: token } })
    const answers = await Promise.all(Array.from({ length: 4 }, () => refresh(refreshToken)))
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200])
    const successors = answers.map((r) => r.body.refreshToken as string)
    expect(new Set(successors).size).toBe(4)
    for (const r of answers)
      expect((await u.call('GET', '/api/users/me', { token: r.body.accessToken })).status).toBe(200)
    for (const token of successors) expect((await refresh(token)).status).toBe(200)
  })

  test('within the grace window a second use gets a fresh pair and revokes nothing; after it, reuse revokes', async () => {
    await u.register('hank')
    const first = await u.login('hank')
    const refresh = (token: string) => u.call('POST', '/api/auth/refresh', { body: { refreshToken: token } })
    const start = Date.now()
    const a = await refresh(first.refreshToken)
    setSystemTime(new Date(start + 4_000))
    const b = await refresh(first.refreshToken)
    expect([a.status, b.status]).toEqual([200, 200])
    expect(b.body.refreshToken).not.toBe(a.body.refreshToken)
    setSystemTime(new Date(start + 5_500))
    const reuse = await refresh(first.refreshToken)
    expect(reuse.status).toBe(401)
    expect(reuse.body.detail).toBe('refresh token reuse detected: the session is revoked')
    // The whole family, both successors included.
    expect((await refresh(a.body.refreshToken)).status).toBe(401)
    expect((await refresh(b.body.refreshToken)).status).toBe(401)
  })

  test('REFRESH_REUSE_GRACE_SECONDS=0: a second use, even at once, revokes the family', async () => {
    await u.stop()
    u = await startUser({ REFRESH_REUSE_GRACE_SECONDS: '0' })
    await u.register('hank')
    const first = await u.login('hank')
    const refresh = (token: string) => u.call('POST', '/api/auth/refresh', { body: { refreshToken: token } })
    const answers = await Promise.all([refresh(first.refreshToken), refresh(first.refreshToken)])
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401])
    const winner = answers.find((r) => r.status === 200)
    expect((await refresh(winner?.body.refreshToken)).status).toBe(401)
  })

  test('logout revokes the family: 204, then the refresh token is refused', async () => {
    await u.register('iris')
    const s = await u.login('iris')
    const out = await u.call('POST', '/api/auth/logout', { body: { refreshToken: s.refreshToken } })
    expect(out.status).toBe(204)
    expect(
      (await u.call('POST', '/api/auth/refresh', { body: { refreshToken: s.refreshToken } })).status,
    ).toBe(401)
  })

  test('an unknown or malformed refresh token is refused', async () => {
    expect((await u.call('POST', '/api/auth/refresh', { body: { refreshToken: 'made-up' } })).status).toBe(
      401,
    )
    expect((await u.call('POST', '/api/auth/refresh', { body: {} })).status).toBe(422)
    expect((await u.call('POST', '/api/auth/logout', { body: { refreshToken: '' } })).status).toBe(422)
  })
})

describe('bearer tokens', () => {
  test('no token, a malformed one or a forged one: 401 with WWW-Authenticate: Bearer', async () => {
    const { accessToken } = await u.login(ADMIN.username, ADMIN.password)
    const [h, p] = accessToken.split('.')
    const forged = `${h}.${p}.${'A'.repeat(86)}`
    for (const token of [undefined, 'not-a-jwt', forged]) {
      const r = await u.call('GET', '/api/users/me', { token })
      expect(r.status).toBe(401)
      expect(r.headers.get('www-authenticate')).toBe('Bearer')
      expect(r.body.type).toBe(problemTypeUri('unauthorized'))
    }
  })
})
