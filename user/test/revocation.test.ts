// Revoked access takes effect at once in the user service, which owns the accounts: a token issued
// before a demotion, disabling, deletion, password change or "log out everywhere" stops working.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { type Event, problemTypeUri } from '@mart/shared'
import { waitFor } from '@mart/shared/testing'
import { startUser, type UserHarness } from './support.ts'

let u: UserHarness
let root: string
let rootId: string
beforeEach(async () => {
  u = await startUser()
  root = await u.adminToken()
  rootId = (await u.call('GET', '/api/users/me', { token: root })).body.id
})
afterEach(() => u.stop())

/** A second admin: registered, promoted by root, logged in. */
async function secondAdmin(name = 'eve') {
  const account = await u.register(name)
  const promoted = await u.call('PATCH', `/api/users/${account.id}`, { token: root, body: { role: 'admin' } })
  expect(promoted.status).toBe(200)
  const { accessToken, refreshToken } = await u.login(name)
  return { id: account.id, token: accessToken, refreshToken }
}

const revocations = (subject: string) =>
  (u.events() as Event<'user.sessions_revoked'>[]).filter(
    (e) => e.type === 'user.sessions_revoked' && e.subject === subject,
  )

const expectRevoked = (r: { status: number; body: Record<string, unknown>; headers: Headers }) => {
  expect(r.status).toBe(401)
  expect(r.body.type).toBe(problemTypeUri('unauthorized'))
  expect(r.headers.get('www-authenticate')).toBe('Bearer')
}

describe('a demoted, disabled or deleted admin loses admin rights at once', () => {
  test('demoted and disabled: the old token cannot re-promote or re-enable its account (401), and nothing changes', async () => {
    const eve = await secondAdmin()
    expect((await u.call('GET', '/api/users', { token: eve.token })).status).toBe(200)

    const demoted = await u.call('PATCH', `/api/users/${eve.id}`, {
      token: root,
      body: { role: 'user', disabled: true },
    })
    expect(demoted.status).toBe(200)

    expectRevoked(
      await u.call('PATCH', `/api/users/${eve.id}`, {
        token: eve.token,
        body: { role: 'admin', disabled: false },
      }),
    )
    expectRevoked(await u.call('GET', '/api/users', { token: eve.token }))
    expectRevoked(await u.call('GET', '/api/users/me', { token: eve.token }))
    expect((await u.call('GET', `/api/users/${eve.id}`, { token: root })).body).toMatchObject({
      role: 'user',
      disabled: true,
    })
    // Her refresh token is gone too (disabling revokes the family).
    expect(
      (await u.call('POST', '/api/auth/refresh', { body: { refreshToken: eve.refreshToken } })).status,
    ).toBe(401)
  })

  test('deleted: the old token cannot delete the seeded admin (401), who stays', async () => {
    const mallory = await secondAdmin('mallory')
    expect((await u.call('DELETE', `/api/users/${mallory.id}`, { token: root })).status).toBe(204)
    expectRevoked(await u.call('DELETE', `/api/users/${rootId}`, { token: mallory.token }))
    expect((await u.call('GET', `/api/users/${rootId}`, { token: root })).status).toBe(200)
  })

  test('demoted only: the old token is refused; a fresh login gets a user token that admin routes refuse (403)', async () => {
    const eve = await secondAdmin()
    await u.call('PATCH', `/api/users/${eve.id}`, { token: root, body: { role: 'user' } })
    expectRevoked(await u.call('GET', '/api/users', { token: eve.token }))
    const fresh = await u.login('eve')
    expect((await u.call('GET', '/api/users/me', { token: fresh.accessToken })).body.role).toBe('user')
    expect((await u.call('GET', '/api/users', { token: fresh.accessToken })).status).toBe(403)
  })

  test('promoting a user ends nothing: their token keeps working, and admin routes follow the current role', async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    await u.call('PATCH', `/api/users/${bob.id}`, { token: root, body: { role: 'admin' } })
    expect((await u.call('GET', '/api/users/me', { token: accessToken })).status).toBe(200)
    // This service acts on the account as it is now, whatever role the token names.
    expect((await u.call('GET', '/api/users', { token: accessToken })).status).toBe(200)
    expect(revocations(bob.id)).toHaveLength(0)
  })
})

describe('sessions end with the password, the account, or on request', () => {
  test('a password change refuses the older access tokens; a token from the new login works, even in the same second', async () => {
    await u.register('bob', 'first-password')
    const before = await u.login('bob', 'first-password')
    const changed = await u.call('PATCH', '/api/users/me', {
      token: before.accessToken,
      body: { password: 'second-password', currentPassword: 'first-password' },
    })
    expect(changed.status).toBe(200)
    expectRevoked(await u.call('GET', '/api/users/me', { token: before.accessToken }))
    const after = await u.login('bob', 'second-password')
    expect((await u.call('GET', '/api/users/me', { token: after.accessToken })).status).toBe(200)
  })

  test('POST /api/auth/logout-all ends every session: access tokens and refresh tokens of every device', async () => {
    await u.register('bob')
    const phone = await u.login('bob')
    const laptop = await u.login('bob')
    const out = await u.call('POST', '/api/auth/logout-all', { token: phone.accessToken })
    expect(out.status).toBe(204)
    for (const device of [phone, laptop]) {
      expectRevoked(await u.call('GET', '/api/users/me', { token: device.accessToken }))
      const refresh = await u.call('POST', '/api/auth/refresh', {
        body: { refreshToken: device.refreshToken },
      })
      expect(refresh.status).toBe(401)
    }
    const again = await u.login('bob')
    expect((await u.call('GET', '/api/users/me', { token: again.accessToken })).status).toBe(200)
  })

  test('POST /api/auth/logout-all needs a valid token (401 without one)', async () => {
    const r = await u.call('POST', '/api/auth/logout-all')
    expectRevoked(r)
  })

  test("a deleted user's token on /api/users/me is a 401, not a 404", async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    await u.call('DELETE', `/api/users/${bob.id}`, { token: root })
    expectRevoked(await u.call('GET', '/api/users/me', { token: accessToken }))
    expectRevoked(await u.call('PATCH', '/api/users/me', { token: accessToken, body: { username: 'bobby' } }))
  })

  test('a disabled user is refused on /api/users/me even with a token issued before', async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    await u.call('PATCH', `/api/users/${bob.id}`, { token: root, body: { disabled: true } })
    expectRevoked(await u.call('GET', '/api/users/me', { token: accessToken }))
  })
})

describe('user.sessions_revoked tells every other service', () => {
  test('one event per revocation, with the reason, the instant, and when the refused tokens have all expired', async () => {
    const bob = await u.register('bob', 'first-password')
    const { accessToken } = await u.login('bob', 'first-password')
    await u.call('PATCH', '/api/users/me', {
      token: accessToken,
      body: { password: 'second-password', currentPassword: 'first-password' },
    })
    const eve = await secondAdmin()
    await u.call('PATCH', `/api/users/${eve.id}`, { token: root, body: { role: 'user' } })
    await u.call('PATCH', `/api/users/${bob.id}`, { token: root, body: { disabled: true } })
    await u.call('DELETE', `/api/users/${bob.id}`, { token: root })
    const fresh = await u.login('eve')
    await u.call('POST', '/api/auth/logout-all', { token: fresh.accessToken })

    await waitFor(
      () => revocations(bob.id).length === 3 && revocations(eve.id).length === 2,
      'the revocations',
    )
    expect(revocations(bob.id).map((e) => e.data.reason)).toEqual(['password_changed', 'disabled', 'deleted'])
    expect(revocations(eve.id).map((e) => e.data.reason)).toEqual(['role_lowered', 'logged_out_everywhere'])
    for (const e of [...revocations(bob.id), ...revocations(eve.id)]) {
      const { notBefore, expiresAt, userId } = e.data
      expect(userId).toBe(e.subject)
      // The default access-token lifetime: 15 minutes.
      expect(Date.parse(expiresAt) - Date.parse(notBefore)).toBe(900_000)
      expect(Math.abs(Date.parse(notBefore) - Date.now())).toBeLessThan(60_000)
    }
    // The seeded admin is untouched.
    expect(revocations(rootId)).toHaveLength(0)
  })
})
