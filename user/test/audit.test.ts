// The user service's audit lines: one per security event and admin action, with who did it (when
// known), from which address, to which account; never a password, hash or token.
import { afterEach, beforeEach, describe, expect, setSystemTime, test } from 'bun:test'
import { ADMIN, startUser, type UserHarness } from './support.ts'

const FROM = '198.51.100.23'
const from = { 'x-forwarded-for': FROM }

let u: UserHarness
let bob: { id: string; username: string; email: string }
beforeEach(async () => {
  u = await startUser({ TRUST_PROXY: 'true' })
  bob = await u.register('bob', 'bob-password', 'bob@example.com')
})
afterEach(async () => {
  setSystemTime()
  await u.stop()
})

const login = (body: Record<string, string>) => u.call('POST', '/api/auth/login', { body, headers: from })
const auditsOf = (action: string) => u.audits().filter((l) => l.audit === action)
const adminId = async () =>
  (await u.call('GET', '/api/users/me', { token: await u.adminToken() })).body.id as string

describe('login', () => {
  test('a wrong password: login.failed naming the account and the address', async () => {
    await login({ username: 'bob', password: 'wrong-password' })
    await login({ email: 'BOB@example.com', password: 'wrong-again' })
    expect(auditsOf('login.failed')).toEqual([
      expect.objectContaining({ level: 30, target: bob.id, address: FROM }),
      expect.objectContaining({ target: bob.id, address: FROM }),
    ])
  })

  test('an unknown account: login.failed without a target, and without what was typed', async () => {
    await login({ username: 'nobody-here', password: 'wrong-password' })
    const [line] = auditsOf('login.failed')
    expect(line).toMatchObject({ address: FROM })
    expect(line?.target).toBeUndefined()
    expect(u.logText()).not.toContain('nobody-here')
  })

  test('the guess that locks the untrusted clients out: one lockout line', async () => {
    for (let i = 0; i < 7; i++) await login({ username: 'bob', password: `guess-${i}` })
    expect(auditsOf('login.failed')).toHaveLength(5)
    const seconds = Number(auditsOf('lockout')[0]?.seconds)
    expect(seconds).toBeGreaterThan(0)
    expect(seconds).toBeLessThanOrEqual(900)
    expect(auditsOf('lockout')).toEqual([
      expect.objectContaining({
        scope: 'untrusted_clients',
        target: bob.id,
        address: FROM,
        seconds: expect.any(Number),
      }),
    ])
  })

  test("a device's own lockout says so", async () => {
    const { deviceToken } = (await login({ username: 'bob', password: 'bob-password' })).body
    for (let i = 0; i < 5; i++) await login({ username: 'bob', password: `guess-${i}`, deviceToken })
    expect(auditsOf('lockout')).toEqual([
      expect.objectContaining({ scope: 'device', target: bob.id, address: FROM }),
    ])
    expect(u.logText()).not.toContain(deviceToken)
  })
})

test('a registration refused by the limit: registration.refused with the address', async () => {
  await u.stop()
  u = await startUser({ TRUST_PROXY: 'true', REGISTER_MAX_PER_ADDRESS: '1' })
  const register = (username: string) =>
    u.call('POST', '/api/auth/register', {
      body: { username, email: `${username}@example.com`, password: 'password-123' },
      headers: from,
    })
  expect((await register('first')).status).toBe(201)
  expect((await register('second')).status).toBe(429)
  expect(auditsOf('registration.refused')).toEqual([
    expect.objectContaining({ address: FROM, reason: 'rate_limited' }),
  ])
})

test('refresh-token reuse: refresh_token.reused naming the account, and the family revoked', async () => {
  const { refreshToken } = await u.login('bob', 'bob-password')
  const refresh = () => u.call('POST', '/api/auth/refresh', { body: { refreshToken }, headers: from })
  await refresh()
  setSystemTime(new Date(Date.now() + 60_000))
  expect((await refresh()).status).toBe(401)
  expect(auditsOf('refresh_token.reused')).toEqual([
    expect.objectContaining({ target: bob.id, address: FROM, outcome: 'family_revoked' }),
  ])
  expect(u.logText()).not.toContain(refreshToken)
})

describe('my own account', () => {
  test('a password change and an email change: one line each, actor and target me', async () => {
    const { accessToken } = await u.login('bob', 'bob-password')
    const patch = (body: Record<string, string>) =>
      u.call('PATCH', '/api/users/me', { token: accessToken, body, headers: from })
    expect((await patch({ email: 'robert@example.com', currentPassword: 'bob-password' })).status).toBe(200)
    expect((await patch({ username: 'robert' })).status).toBe(200)
    expect((await patch({ password: 'new-bob-password', currentPassword: 'bob-password' })).status).toBe(200)
    const who = { actor: bob.id, target: bob.id, address: FROM }
    expect(auditsOf('email.changed')).toEqual([expect.objectContaining(who)])
    expect(auditsOf('password.changed')).toEqual([expect.objectContaining(who)])
    expect(u.logText()).not.toContain('robert@example.com')
  })

  test('a wrong currentPassword: current_password.failed, and a lockout after the fifth', async () => {
    const { accessToken } = await u.login('bob', 'bob-password')
    for (let i = 0; i < 5; i++) {
      await u.call('PATCH', '/api/users/me', {
        token: accessToken,
        body: { password: 'new-bob-password', currentPassword: `guess-${i}` },
        headers: from,
      })
    }
    expect(auditsOf('current_password.failed')).toHaveLength(5)
    expect(auditsOf('current_password.failed')[0]).toMatchObject({
      actor: bob.id,
      target: bob.id,
      address: FROM,
    })
    expect(auditsOf('lockout')).toEqual([
      expect.objectContaining({ scope: 'current_password', target: bob.id, address: FROM }),
    ])
  })
})

describe('admin actions', () => {
  test('role changed from and to, account disabled and enabled, account deleted: actor and target', async () => {
    const admin = await u.adminToken()
    const actor = await adminId()
    const patch = (body: Record<string, unknown>) =>
      u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body, headers: from })
    expect((await patch({ role: 'admin' })).status).toBe(200)
    expect((await patch({ role: 'user', disabled: true })).status).toBe(200)
    expect((await patch({ disabled: false })).status).toBe(200)
    expect((await patch({ role: 'user', disabled: false })).status).toBe(200)
    expect((await u.call('DELETE', `/api/users/${bob.id}`, { token: admin, headers: from })).status).toBe(204)

    const who = { actor, target: bob.id, address: FROM }
    expect(
      u
        .audits()
        .filter((l) => String(l.audit).startsWith('user.'))
        .map(({ audit, from: was, to }) => ({ audit, from: was, to })),
    ).toEqual([
      { audit: 'user.role_changed', from: 'user', to: 'admin' },
      { audit: 'user.role_changed', from: 'admin', to: 'user' },
      { audit: 'user.disabled', from: undefined, to: undefined },
      { audit: 'user.enabled', from: undefined, to: undefined },
      { audit: 'user.deleted', from: undefined, to: undefined },
    ])
    for (const line of u.audits().filter((l) => String(l.audit).startsWith('user.'))) {
      expect(line).toMatchObject(who)
    }
  })

  test('a refused admin action (the last admin) writes no line', async () => {
    const admin = await u.adminToken()
    const actor = await adminId()
    expect(
      (await u.call('PATCH', `/api/users/${actor}`, { token: admin, body: { role: 'user' } })).status,
    ).toBe(409)
    expect((await u.call('DELETE', `/api/users/${actor}`, { token: admin })).status).toBe(409)
    expect(u.audits().filter((l) => String(l.audit).startsWith('user.'))).toEqual([])
  })
})

test('no line carries a password, a hash or a token', async () => {
  const session = (await login({ username: 'bob', password: 'bob-password' })).body
  await login({ username: 'bob', password: 'a-wrong-password' })
  await u.call('PATCH', '/api/users/me', {
    token: session.accessToken,
    body: { password: 'next-bob-password', currentPassword: 'bob-password' },
  })
  await u.call('POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })
  const text = u.logText()
  expect(u.audits().length).toBeGreaterThan(1)
  for (const secret of [
    'bob-password',
    'a-wrong-password',
    'next-bob-password',
    ADMIN.password,
    session.accessToken,
    session.refreshToken,
    session.deviceToken,
    '$argon2',
  ]) {
    expect(text).not.toContain(secret)
  }
})
