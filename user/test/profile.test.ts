import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { startUser, tally, type UserHarness } from './support.ts'

let u: UserHarness
let alice: { id: string; username: string; email: string }
let token: string
beforeEach(async () => {
  u = await startUser()
  alice = await u.register('alice', 'alice-password', 'alice@example.com')
  token = (await u.login('alice', 'alice-password')).accessToken
})
afterEach(() => u.stop())

const loginStatus = async (body: Record<string, string>) =>
  (await u.call('POST', '/api/auth/login', { body })).status

describe('GET /api/users/me', () => {
  test('answers my profile and nothing about my password', async () => {
    const r = await u.call('GET', '/api/users/me', { token })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      id: alice.id,
      username: 'alice',
      email: 'alice@example.com',
      role: 'user',
      disabled: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect(r.text).not.toContain('passwordHash')
    expect(r.text).not.toContain('password')
    expect(r.text).not.toContain('argon2')
  })

  test('answers 401 with WWW-Authenticate: Bearer without a token', async () => {
    const r = await u.call('GET', '/api/users/me')
    expect(r.status).toBe(401)
    expect(r.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('PATCH /api/users/me', () => {
  test('changes username and email: the new username logs in, the old one does not', async () => {
    const r = await u.call('PATCH', '/api/users/me', {
      token,
      body: { username: 'alicia', email: 'alicia@example.org', currentPassword: 'alice-password' },
    })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      id: alice.id,
      username: 'alicia',
      email: 'alicia@example.org',
      role: 'user',
      disabled: false,
      createdAt: expect.any(String),
    })
    expect(r.text).not.toContain('argon2')
    expect(r.text).not.toContain('passwordHash')

    const me = await u.call('GET', '/api/users/me', { token })
    expect(me.body).toMatchObject({ username: 'alicia', email: 'alicia@example.org' })

    expect(await loginStatus({ username: 'alicia', password: 'alice-password' })).toBe(200)
    expect(await loginStatus({ email: 'alicia@example.org', password: 'alice-password' })).toBe(200)
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(401)
    expect(await loginStatus({ email: 'alice@example.com', password: 'alice-password' })).toBe(401)
  })

  test('a body that is not an object (an array of changes) is a 422 and changes nothing', async () => {
    const r = await u.call('PATCH', '/api/users/me', { token, body: [{ email: 'new@example.com' }] })
    expect(r.status).toBe(422)
    expect(r.body.errors).toEqual([{ path: '/body', message: 'Expected object' }])
    expect((await u.call('GET', '/api/users/me', { token })).body.email).toBe('alice@example.com')
  })

  test('changing only one field keeps the other', async () => {
    const r = await u.call('PATCH', '/api/users/me', {
      token,
      body: { email: 'new@example.com', currentPassword: 'alice-password' },
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ username: 'alice', email: 'new@example.com' })
  })

  test('changing the case of my own username is not a conflict with myself', async () => {
    const r = await u.call('PATCH', '/api/users/me', { token, body: { username: 'Alice' } })
    expect(r.status).toBe(200)
    expect(r.body.username).toBe('Alice')
  })

  test('answers 409 when the username or email belongs to someone else, whatever the case', async () => {
    await u.register('bob', 'bob-password', 'bob@example.com')
    const name = await u.call('PATCH', '/api/users/me', { token, body: { username: 'BOB' } })
    expect(name.status).toBe(409)
    expect(name.body).toMatchObject({ type: problemTypeUri('conflict'), detail: 'that username is taken' })
    const email = await u.call('PATCH', '/api/users/me', {
      token,
      body: { email: 'Bob@EXAMPLE.com', currentPassword: 'alice-password' },
    })
    expect(email.status).toBe(409)
    expect(email.body.detail).toBe('that email is taken')
    // A conflict in one field changes no field.
    const both = await u.call('PATCH', '/api/users/me', {
      token,
      body: { username: 'alice2', email: 'BOB@example.com', currentPassword: 'alice-password' },
    })
    expect(both.status).toBe(409)
    const me = await u.call('GET', '/api/users/me', { token })
    expect(me.body).toMatchObject({ username: 'alice', email: 'alice@example.com' })
  })

  test.each([
    ['a short username', { username: 'al' }, '/body/username'],
    ['a long username', { username: 'a'.repeat(33) }, '/body/username'],
    ['a username with a space', { username: 'ali ce' }, '/body/username'],
    ['a bad email', { email: 'not-an-email' }, '/body/email'],
    ['a short new password', { password: 'short', currentPassword: 'alice-password' }, '/body/password'],
    [
      'a long new password',
      { password: 'p'.repeat(129), currentPassword: 'alice-password' },
      '/body/password',
    ],
  ])('answers 422 for %s and changes nothing', async (_what, body, path) => {
    const r = await u.call('PATCH', '/api/users/me', { token, body })
    expect(r.status).toBe(422)
    expect(r.headers.get('content-type')).toBe('application/problem+json')
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain(path)
    expect(r.text).not.toContain('alice-password')
    const me = await u.call('GET', '/api/users/me', { token })
    expect(me.body).toMatchObject({ username: 'alice', email: 'alice@example.com' })
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(200)
  })

  test('a new password without currentPassword: 422 naming /body/currentPassword', async () => {
    const r = await u.call('PATCH', '/api/users/me', { token, body: { password: 'brand-new-password' } })
    expect(r.status).toBe(422)
    expect(r.body.type).toBe(problemTypeUri('validation'))
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/currentPassword'])
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(200)
    expect(await loginStatus({ username: 'alice', password: 'brand-new-password' })).toBe(401)
  })

  test('a new email without currentPassword: 422 naming /body/currentPassword, and nothing changes', async () => {
    const r = await u.call('PATCH', '/api/users/me', {
      token,
      body: { username: 'alicia', email: 'mallory@example.com' },
    })
    expect(r.status).toBe(422)
    expect(r.body.type).toBe(problemTypeUri('validation'))
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/currentPassword'])
    const me = await u.call('GET', '/api/users/me', { token })
    expect(me.body).toMatchObject({ username: 'alice', email: 'alice@example.com' })
  })

  test('the email as it is, or a username alone, needs no currentPassword', async () => {
    const r = await u.call('PATCH', '/api/users/me', {
      token,
      body: { username: 'alicia', email: 'alice@example.com' },
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ username: 'alicia', email: 'alice@example.com' })
  })

  test('a new email with a wrong currentPassword: 422, counted as a guess like a password change', async () => {
    const attempt = (currentPassword: string) =>
      u.call('PATCH', '/api/users/me', { token, body: { email: 'mallory@example.com', currentPassword } })
    for (let i = 0; i < 5; i++) {
      const r = await attempt(`guess-${i}`)
      expect(r.status).toBe(422)
      expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/currentPassword'])
    }
    expect((await attempt('alice-password')).status).toBe(429)
    expect((await u.call('GET', '/api/users/me', { token })).body.email).toBe('alice@example.com')
  })

  test('a new email that is taken needs the right currentPassword before it says so', async () => {
    await u.register('bob', 'bob-password', 'bob@example.com')
    const wrong = await u.call('PATCH', '/api/users/me', {
      token,
      body: { email: 'bob@example.com', currentPassword: 'wrong-password' },
    })
    expect(wrong.status).toBe(422)
    expect(wrong.text).not.toContain('taken')
  })

  test('a new password with a wrong currentPassword: 422, and nothing else in the request changes', async () => {
    const r = await u.call('PATCH', '/api/users/me', {
      token,
      body: { username: 'alicia', password: 'brand-new-password', currentPassword: 'wrong-password' },
    })
    expect(r.status).toBe(422)
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/currentPassword'])
    expect(r.text).not.toContain('wrong-password')
    expect(r.text).not.toContain('brand-new-password')
    const me = await u.call('GET', '/api/users/me', { token })
    expect(me.body.username).toBe('alice')
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(200)
    expect(await loginStatus({ username: 'alice', password: 'brand-new-password' })).toBe(401)
  })

  test('guessing the current password is limited like login: after 5 wrong guesses, 429 even for the right one', async () => {
    const attempt = (currentPassword: string) =>
      u.call('PATCH', '/api/users/me', { token, body: { password: 'brand-new-password', currentPassword } })
    for (let i = 0; i < 5; i++) expect((await attempt(`guess-${i}`)).status).toBe(422)
    const limited = await attempt('alice-password')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(200)
  })

  test('25 parallel wrong currentPasswords: exactly the allowed 5 are checked, the rest are 429', async () => {
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        u.call('PATCH', '/api/users/me', {
          token,
          body: { password: 'brand-new-password', currentPassword: `guess-${i}` },
        }),
      ),
    )
    expect(tally(answers.map((r) => r.status))).toEqual({ 422: 5, 429: 20 })
    for (const r of answers.filter((a) => a.status === 429)) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(200)
  })

  test('a new password with the right currentPassword: the old one stops working and earlier refresh tokens are revoked', async () => {
    const earlier = await u.login('alice', 'alice-password')
    const r = await u.call('PATCH', '/api/users/me', {
      token,
      body: { password: 'brand-new-password', currentPassword: 'alice-password' },
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ id: alice.id, username: 'alice', email: 'alice@example.com' })
    expect(r.text).not.toContain('brand-new-password')
    expect(r.text).not.toContain('argon2')

    expect(await loginStatus({ username: 'alice', password: 'alice-password' })).toBe(401)
    expect(await loginStatus({ username: 'alice', password: 'brand-new-password' })).toBe(200)

    const refresh = await u.call('POST', '/api/auth/refresh', {
      body: { refreshToken: earlier.refreshToken },
    })
    expect(refresh.status).toBe(401)
    expect(refresh.headers.get('www-authenticate')).toBe('Bearer')

    // A session started after the change refreshes normally.
    const later = await u.login('alice', 'brand-new-password')
    expect(
      (await u.call('POST', '/api/auth/refresh', { body: { refreshToken: later.refreshToken } })).status,
    ).toBe(200)
  })

  test('cannot change role or the disabled flag of my own account: extra fields are ignored', async () => {
    const r = await u.call('PATCH', '/api/users/me', { token, body: { role: 'admin', disabled: true } })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ role: 'user', disabled: false })
    const me = await u.call('GET', '/api/users/me', { token })
    expect(me.body).toMatchObject({ role: 'user', disabled: false })
  })
})
