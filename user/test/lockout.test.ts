// Login lockouts, OWASP's "device cookies" scheme: wrong passwords count per account, a client
// without a device token of that account is locked out with the other untrusted clients, and a
// device that logged in before keeps its own counter.
import { afterEach, beforeEach, describe, expect, setSystemTime, test } from 'bun:test'
import { problemTypeUri } from '@mart/shared'
import { startUser, tally, type UserHarness } from './support.ts'

let u: UserHarness
let victim: { id: string; username: string; email: string }
beforeEach(async () => {
  u = await startUser()
  victim = await u.register('victim', 'victim-password', 'victim@example.com')
})
afterEach(async () => {
  setSystemTime()
  await u.stop()
})

type Body = { username?: string; email?: string; password: string; deviceToken?: string }
const login = (body: Body, headers: Record<string, string> = {}) =>
  u.call('POST', '/api/auth/login', { body, headers })
const right = { username: 'victim', password: 'victim-password' }
const wrong = { username: 'victim', password: 'guess-guess' }

/** The account's untrusted clients locked out: 5 wrong passwords from clients without a device token. */
async function lockOut(body: Body = wrong) {
  for (let i = 0; i < 5; i++) expect((await login(body)).status).toBe(401)
  expect((await login({ ...body, password: 'one-more-guess' })).status).toBe(429)
}

/** A device token of the victim's account, from a login with the right password. */
async function trustedDevice(): Promise<string> {
  const r = await login(right)
  expect(r.status).toBe(200)
  expect(r.body.deviceToken).toEqual(expect.any(String))
  return r.body.deviceToken
}

const deviceCookie = (r: { headers: Headers }) =>
  r.headers.getSetCookie().find((c) => c.startsWith('mart_device='))

describe('the per-account counter', () => {
  test('counts the account, not the identifier: 5 wrong by username, then by email is 429', async () => {
    for (let i = 0; i < 5; i++) expect((await login(wrong)).status).toBe(401)
    for (const body of [
      { email: 'victim@example.com', password: 'guess-again' },
      { email: 'VICTIM@example.com', password: 'victim-password' },
      { username: 'VICTIM', password: 'victim-password' },
    ]) {
      const r = await login(body)
      expect(r.status).toBe(429)
      expect(r.body.type).toBe(problemTypeUri('too-many-requests'))
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0)
    }
  })

  test('3 wrong by username and 2 by email are the 5 failures of one account', async () => {
    for (let i = 0; i < 3; i++) expect((await login(wrong)).status).toBe(401)
    for (let i = 0; i < 2; i++) {
      expect((await login({ email: 'victim@example.com', password: 'guess' })).status).toBe(401)
    }
    expect((await login(right)).status).toBe(429)
  })

  test('an unknown identifier answers as a known one: 5 times 401, then 429, whatever its case', async () => {
    const statuses = []
    for (const username of ['nobody', 'Nobody', 'NOBODY', 'nobody', 'noBody', 'nobody']) {
      statuses.push((await login({ username, password: 'guess-guess' })).status)
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
  })

  test('a right password does not count as a failure', async () => {
    for (let i = 0; i < 4; i++) expect((await login(wrong)).status).toBe(401)
    for (let i = 0; i < 3; i++) expect((await login(right)).status).toBe(200)
    expect((await login(wrong)).status).toBe(401)
    expect((await login(right)).status).toBe(429)
  })
})

describe('device tokens', () => {
  test('a login answers a deviceToken and sets it as the mart_device cookie', async () => {
    const r = await login(right)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      deviceToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    })
    const cookie = deviceCookie(r)
    expect(cookie).toBe(
      `mart_device=${r.body.deviceToken}; Max-Age=2592000; Path=/api/auth; HttpOnly; SameSite=Strict`,
    )
    // Stored only as a hash.
    const stored = u.svc.store.sqlite.prepare('SELECT * FROM device_tokens').all()
    expect(stored).toHaveLength(1)
    expect(JSON.stringify(stored)).not.toContain(r.body.deviceToken)
  })

  test('the OAuth2 form login sets the cookie too, and DEVICE_TOKEN_TTL_DAYS sets its Max-Age', async () => {
    await u.stop()
    u = await startUser({ DEVICE_TOKEN_TTL_DAYS: '7' })
    await u.register('victim', 'victim-password')
    const r = await u.call('POST', '/api/auth/token', {
      form: { username: 'victim', password: 'victim-password' },
    })
    expect(r.status).toBe(200)
    expect(Object.keys(r.body).sort()).toEqual(['access_token', 'expires_in', 'token_type'])
    expect(deviceCookie(r)).toMatch(
      /^mart_device=[A-Za-z0-9_-]{43}; Max-Age=604800; Path=\/api\/auth; HttpOnly; SameSite=Strict$/,
    )
  })

  test('a failed login sets no cookie', async () => {
    expect(deviceCookie(await login(wrong))).toBeUndefined()
  })

  test('a victim locked out by an attacker still logs in from a device that logged in before', async () => {
    const deviceToken = await trustedDevice()
    await lockOut()
    // A client without a device token is locked out, even with the right password.
    expect((await login(right)).status).toBe(429)
    // The known device gets in: its token in the body, or as the cookie.
    const byBody = await login({ ...right, deviceToken })
    expect(byBody.status).toBe(200)
    // The same device keeps its token.
    expect(byBody.body.deviceToken).toBe(deviceToken)
    expect((await login(right, { cookie: `mart_device=${deviceToken}` })).status).toBe(200)
    const form = await u.call('POST', '/api/auth/token', {
      form: { username: 'victim', password: 'victim-password' },
      headers: { cookie: `mart_device=${deviceToken}` },
    })
    expect(form.status).toBe(200)
  })

  test("a device's own wrong guesses lock that device only", async () => {
    const device = await trustedDevice()
    const other = await trustedDevice()
    for (let i = 0; i < 5; i++) expect((await login({ ...wrong, deviceToken: device })).status).toBe(401)
    const locked = await login({ ...right, deviceToken: device })
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
    // Neither the account's other device nor clients without a device token are affected.
    expect((await login({ ...right, deviceToken: other })).status).toBe(200)
    expect((await login(right)).status).toBe(200)
  })

  test('parallel wrong guesses from one device: exactly 5 are checked', async () => {
    const deviceToken = await trustedDevice()
    const answers = await Promise.all(Array.from({ length: 20 }, () => login({ ...wrong, deviceToken })))
    expect(tally(answers.map((r) => r.status))).toEqual({ 401: 5, 429: 15 })
  })

  test("another account's device token, or a made-up one, counts as none", async () => {
    await u.register('mallory', 'mallory-password')
    const mallorys = (await login({ username: 'mallory', password: 'mallory-password' })).body.deviceToken
    const own = await trustedDevice()
    await lockOut()
    for (const deviceToken of [mallorys, 'made-up-token']) {
      expect((await login({ ...right, deviceToken })).status).toBe(429)
      expect((await login(right, { cookie: `mart_device=${deviceToken}` })).status).toBe(429)
    }
    // A cookie that is not even a token is no token either: the login is answered, not refused as invalid.
    expect((await login(right, { cookie: 'mart_device={"a":1}' })).status).toBe(429)
    // While the victim's own device gets in.
    expect((await login({ ...right, deviceToken: own })).status).toBe(200)
  })

  test('the body field wins over the cookie', async () => {
    const deviceToken = await trustedDevice()
    await lockOut()
    const cookie = { cookie: `mart_device=${deviceToken}` }
    expect((await login({ ...right, deviceToken: 'made-up-token' }, cookie)).status).toBe(429)
    expect((await login({ ...right, deviceToken }, { cookie: 'mart_device=made-up-token' })).status).toBe(200)
  })

  test('an expired device token counts as none', async () => {
    const deviceToken = await trustedDevice()
    setSystemTime(new Date(Date.now() + 31 * 86_400_000))
    await lockOut()
    expect((await login({ ...right, deviceToken })).status).toBe(429)
  })

  test('a device that logs in again stays trusted past its first expiry', async () => {
    const deviceToken = await trustedDevice()
    const start = Date.now()
    setSystemTime(new Date(start + 20 * 86_400_000))
    expect((await login({ ...right, deviceToken })).status).toBe(200)
    setSystemTime(new Date(start + 40 * 86_400_000))
    await lockOut()
    expect((await login({ ...right, deviceToken })).status).toBe(200)
  })

  test('a password change drops the account’s device tokens', async () => {
    const device = await login(right)
    const changed = await u.call('PATCH', '/api/users/me', {
      token: device.body.accessToken,
      body: { password: 'a-new-password', currentPassword: 'victim-password' },
    })
    expect(changed.status).toBe(200)
    const renewed = { username: 'victim', password: 'a-new-password' }
    const after = (await login(renewed)).body.deviceToken
    await lockOut({ username: 'victim', password: 'victim-password' })
    expect((await login({ ...renewed, deviceToken: device.body.deviceToken })).status).toBe(429)
    // A device that logged in after the change is trusted.
    expect((await login({ ...renewed, deviceToken: after })).status).toBe(200)
  })

  test('disabling the account drops its device tokens, and deleting it removes them', async () => {
    const deviceToken = await trustedDevice()
    const admin = await u.adminToken()
    const patch = (disabled: boolean) =>
      u.call('PATCH', `/api/users/${victim.id}`, { token: admin, body: { disabled } })
    expect((await patch(true)).status).toBe(200)
    expect((await patch(false)).status).toBe(200)
    await lockOut()
    expect((await login({ ...right, deviceToken })).status).toBe(429)

    const stored = () =>
      u.svc.store.sqlite.prepare('SELECT count(*) AS n FROM device_tokens WHERE user_id = ?').get(victim.id)
    await u.stop()
    u = await startUser()
    victim = await u.register('victim', 'victim-password', 'victim@example.com')
    await trustedDevice()
    expect(stored()).toEqual({ n: 1 })
    expect((await u.call('DELETE', `/api/users/${victim.id}`, { token: await u.adminToken() })).status).toBe(
      204,
    )
    expect(stored()).toEqual({ n: 0 })
  })
})
