import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { Event, KafkaBus } from '@mart/shared'
import { describeKafka, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { ADMIN, startUser, type UserHarness } from './support.ts'

let u: UserHarness

/** The account events on user.events (beside them travels user.sessions_revoked). */
type UserEvent = Event<'user.registered' | 'user.updated' | 'user.deleted'>
const userEvents = (h: UserHarness) =>
  h.events().filter((e) => e.type !== 'user.sessions_revoked') as UserEvent[]
const revocationsOf = (h: UserHarness, subject: string) =>
  (h.events() as Event<'user.sessions_revoked'>[]).filter(
    (e) => e.type === 'user.sessions_revoked' && e.subject === subject,
  )

/** Waits for the one event of `type` about `subject`, and answers it. */
const eventOf = (
  h: UserHarness,
  type: UserEvent['type'],
  subject: string,
  match: (e: UserEvent) => boolean = () => true,
) =>
  waitFor(
    () => userEvents(h).find((e) => e.type === type && e.subject === subject && match(e)),
    `${type} for ${subject}`,
  )

const updatesOf = (subject: string) =>
  userEvents(u).filter((e) => e.type === 'user.updated' && e.subject === subject)

describe('events on user.events', () => {
  beforeEach(async () => {
    u = await startUser()
  })
  afterEach(() => u.stop())

  test('register emits user.registered: the snapshot, keyed and subjected by the user id, correlated with the request id', async () => {
    const r = await u.call('POST', '/api/auth/register', {
      body: { username: 'alice', email: 'Alice@Example.com', password: 'wonderland' },
      headers: { 'x-request-id': 'req-register-alice' },
    })
    expect(r.status).toBe(201)
    const id = r.body.id as string
    const e = await eventOf(u, 'user.registered', id)
    expect(e).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'user.registered',
      version: 1,
      occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      source: 'user',
      subject: id,
      data: { id, username: 'alice', email: 'Alice@Example.com', role: 'user', disabled: false },
      correlationId: 'req-register-alice',
      causationId: null,
    })
    const d = u.deliveries().find((m) => JSON.parse(m.value).id === e.id)
    expect(d?.topic).toBe('user.events')
    expect(d?.key).toBe(id)
    expect(d?.headers['event-type']).toBe('user.registered')
  })

  test('without an x-request-id the correlation id is the request id the service answered with', async () => {
    const r = await u.call('POST', '/api/auth/register', {
      body: { username: 'bob', email: 'bob@example.com', password: 'password-123' },
    })
    const requestId = r.headers.get('x-request-id')
    expect(requestId).toBeTruthy()
    const e = await eventOf(u, 'user.registered', r.body.id)
    expect(e.correlationId).toBe(requestId as string)
  })

  test('the seeded admin is announced with user.registered and the admin role', async () => {
    const e = await waitFor(
      () => userEvents(u).find((x) => x.type === 'user.registered' && x.data.username === ADMIN.username),
      'the admin registered',
    )
    expect(e.data).toEqual({
      id: e.subject,
      username: ADMIN.username,
      email: ADMIN.email,
      role: 'admin',
      disabled: false,
    })
  })

  test('an admin PATCH emits user.updated with the new role and disabled flag', async () => {
    const bob = await u.register('bob')
    const admin = await u.adminToken()
    const promote = await u.call('PATCH', `/api/users/${bob.id}`, {
      token: admin,
      body: { role: 'admin' },
      headers: { 'x-request-id': 'req-promote-bob' },
    })
    expect(promote.status).toBe(200)
    const promoted = await eventOf(u, 'user.updated', bob.id, (e) => e.data.role === 'admin')
    expect(promoted.data).toEqual({
      id: bob.id,
      username: 'bob',
      email: 'bob@example.com',
      role: 'admin',
      disabled: false,
    })
    expect(promoted.correlationId).toBe('req-promote-bob')

    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { disabled: true } })
    const disabled = await eventOf(u, 'user.updated', bob.id, (e) => e.data.disabled === true)
    expect(disabled.data).toEqual({ ...promoted.data, disabled: true })
    expect(updatesOf(bob.id).map((e) => [e.data.role, e.data.disabled])).toEqual([
      ['admin', false],
      ['admin', true],
    ])
  })

  test('PATCH /api/users/me with a new username emits user.updated', async () => {
    const bob = await u.register('bob')
    const { accessToken } = await u.login('bob')
    const r = await u.call('PATCH', '/api/users/me', {
      token: accessToken,
      body: { username: 'robert' },
      headers: { 'x-request-id': 'req-rename-bob' },
    })
    expect(r.status).toBe(200)
    const e = await eventOf(u, 'user.updated', bob.id)
    expect(e.data).toEqual({
      id: bob.id,
      username: 'robert',
      email: 'bob@example.com',
      role: 'user',
      disabled: false,
    })
    expect(e.correlationId).toBe('req-rename-bob')
  })

  test('DELETE emits user.deleted with the account as it was', async () => {
    const bob = await u.register('bob')
    const admin = await u.adminToken()
    const r = await u.call('DELETE', `/api/users/${bob.id}`, {
      token: admin,
      headers: { 'x-request-id': 'req-delete-bob' },
    })
    expect(r.status).toBe(204)
    const e = await eventOf(u, 'user.deleted', bob.id)
    expect(e.data).toEqual({
      id: bob.id,
      username: 'bob',
      email: 'bob@example.com',
      role: 'user',
      disabled: false,
    })
    expect(e.correlationId).toBe('req-delete-bob')
  })

  test('refused changes emit nothing: a 409 on the last admin, a 409 on a taken name', async () => {
    const admin = await u.adminToken()
    const root = (await u.call('GET', `/api/users?q=${ADMIN.username}`, { token: admin })).body.items[0]
    expect(
      (await u.call('PATCH', `/api/users/${root.id}`, { token: admin, body: { role: 'user' } })).status,
    ).toBe(409)
    await u.register('bob')
    const carol = await u.register('carol')
    const { accessToken } = await u.login('carol')
    expect(
      (await u.call('PATCH', '/api/users/me', { token: accessToken, body: { username: 'bob' } })).status,
    ).toBe(409)
    // A later change on the same keys arrives after anything the refused ones could have emitted.
    await u.call('PATCH', `/api/users/${carol.id}`, { token: admin, body: { disabled: true } })
    await eventOf(u, 'user.updated', carol.id)
    expect(updatesOf(carol.id)).toHaveLength(1)
    expect(updatesOf(root.id)).toHaveLength(0)
  })

  test('a profile PATCH that changes nothing an event carries (only the password, or the same values) emits no user.updated', async () => {
    const bob = await u.register('bob', 'first-password')
    const { accessToken } = await u.login('bob', 'first-password')
    const admin = await u.adminToken()
    const password = await u.call('PATCH', '/api/users/me', {
      token: accessToken,
      body: { password: 'second-password', currentPassword: 'first-password' },
    })
    expect(password.status).toBe(200)
    // The password change ended the sessions of the old password: log in with the new one.
    const again = await u.login('bob', 'second-password')
    const same = await u.call('PATCH', '/api/users/me', {
      token: again.accessToken,
      body: { username: 'bob', email: 'bob@example.com' },
    })
    expect(same.status).toBe(200)
    const sameAdmin = await u.call('PATCH', `/api/users/${bob.id}`, {
      token: admin,
      body: { role: 'user', disabled: false },
    })
    expect(sameAdmin.status).toBe(200)
    // A real change on the same key: one partition, in order, so anything earlier would be here by now.
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    await eventOf(u, 'user.updated', bob.id)
    expect(updatesOf(bob.id).map((e) => e.data.role)).toEqual(['admin'])
  })

  test('no event ever carries a password or a password hash', async () => {
    const bob = await u.register('bob', 'first-secret-pw')
    const { accessToken } = await u.login('bob', 'first-secret-pw')
    await u.call('PATCH', '/api/users/me', {
      token: accessToken,
      body: { username: 'robert', password: 'second-secret-pw', currentPassword: 'first-secret-pw' },
    })
    const admin = await u.adminToken()
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { role: 'admin' } })
    await u.call('PATCH', `/api/users/${bob.id}`, { token: admin, body: { disabled: true } })
    await u.call('DELETE', `/api/users/${bob.id}`, { token: admin })
    await eventOf(u, 'user.deleted', bob.id)
    await waitFor(() => revocationsOf(u, bob.id).length === 3, 'three revocations of bob')
    const raw = u.deliveries()
    // root registered, bob registered, renamed, promoted, disabled, deleted; and bob's sessions
    // revoked for the new password, the disabling and the deletion.
    expect(raw.length).toBe(9)
    for (const m of raw) {
      const text = `${m.value} ${JSON.stringify(m.headers)}`.toLowerCase()
      for (const secret of ['first-secret-pw', 'second-secret-pw', ADMIN.password, 'argon2', '$argon']) {
        expect(text).not.toContain(secret.toLowerCase())
      }
      // No field is a password or a hash (a revocation's reason may say "password_changed").
      for (const key of text.match(/"[a-z_]+":/g) ?? []) expect(key).not.toMatch(/password|hash/)
    }
    for (const e of userEvents(u)) {
      expect(Object.keys(e.data).sort()).toEqual(['disabled', 'email', 'id', 'role', 'username'])
    }
  })
})

describeKafka('user events through real Kafka', (brokers) => {
  let bus: KafkaBus
  let k: UserHarness
  beforeEach(async () => {
    bus = kafkaTestBus(brokers, 'user-test')
    k = await startUser({}, { bus })
  }, 60_000)
  afterEach(async () => {
    await k.stop()
    await bus.close()
  }, 60_000)

  test('registering a user lands user.registered on the Kafka topic, keyed by the user id', async () => {
    const r = await k.call('POST', '/api/auth/register', {
      body: { username: 'kafka.kim', email: 'kim@example.com', password: 'password-123' },
      headers: { 'x-request-id': 'req-kafka-kim' },
    })
    expect(r.status).toBe(201)
    const e = await waitFor(
      () => userEvents(k).find((x) => x.type === 'user.registered' && x.subject === r.body.id),
      'user.registered on Kafka',
      30_000,
    )
    expect(e.data).toEqual({
      id: r.body.id,
      username: 'kafka.kim',
      email: 'kim@example.com',
      role: 'user',
      disabled: false,
    })
    expect(e.correlationId).toBe('req-kafka-kim')
    const d = k.deliveries().find((m) => JSON.parse(m.value).id === e.id)
    expect(d?.topic).toBe('user.events')
    expect(d?.key).toBe(r.body.id)
    expect(d?.value).not.toContain('password')
    // The seeded admin went the same way.
    expect(userEvents(k).some((x) => x.type === 'user.registered' && x.data.role === 'admin')).toBe(true)
  }, 60_000)
})
