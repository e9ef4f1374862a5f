// GET /api/notifications/stream as a client sees it: the caller's new notifications as events, live,
// resumable with Last-Event-ID from the database, nobody else's, bounded, and ended when the service stops.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { type StreamLimits, verifierFromConfig } from '@mart/shared'
import { sampleOrder, sseReader, waitFor } from '@mart/shared/testing'
import { NotificationChanges } from '../src/changes.ts'
import { Inbox } from '../src/inbox.ts'
import { BEFORE_ALL, NotificationStreams } from '../src/stream.ts'
import { type NotificationHarness, startNotification } from './support.ts'

let h: NotificationHarness
let stopped = false
const readers: ReturnType<typeof sseReader>[] = []
beforeEach(async () => {
  stopped = false
  h = await startNotification()
})
afterEach(async () => {
  for (const r of readers.splice(0)) await r.cancel().catch(() => {})
  if (!stopped) await h.stop()
})

type Person = Awaited<ReturnType<NotificationHarness['person']>>
type Who = { id: string; token: string }

/** GET the stream as `who`, the way EventSource asks for it. */
const open = (who: Who, headers: Record<string, string> = {}) =>
  h.svc.app.handle(
    new Request('http://notification.mart.test/api/notifications/stream', {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${who.token}`, ...headers },
    }),
  )

/** Opens the stream, reads past its opening (the retry hint and where it starts); the test's cleanup closes it. */
async function follow(who: Who, headers: Record<string, string> = {}) {
  const res = await open(who, headers)
  expect(res.status).toBe(200)
  const reader = sseReader(res)
  readers.push(reader)
  expect(await reader.next()).toEqual({ retry: '3000' })
  const start = await reader.next()
  expect(start).toEqual({ id: expect.any(String) })
  return { res, from: start?.id as string, ...reader }
}

/** An announcement to one person by `admin`. */
async function tell(admin: Person, who: Person, title: string) {
  const res = await h.call('POST', '/api/notifications', {
    token: admin.token,
    body: { userId: who.id, title, body: title },
  })
  expect(res.status).toBe(201)
}

/** An order placed by `who`: order-received for them, admin-new-order for every admin. */
async function placed(who: Person, orderId = `o-${crypto.randomUUID()}`) {
  const order = { ...sampleOrder(orderId, [['p1', 2]]), userId: who.id }
  await h.apply(['order.placed', order, orderId])
  return order
}

const newestOf = (who: Person) =>
  (
    h.svc.store.sqlite.prepare('SELECT max(id) AS id FROM notifications WHERE user_id = ?').get(who.id) as {
      id: string
    }
  ).id

describe('GET /api/notifications/stream', () => {
  test('a client sees a notification written after it connected, as GET /:id answers it', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const s = await follow(alice)
    expect(s.res.headers.get('content-type')).toBe('text/event-stream')
    expect(s.res.headers.get('cache-control')).toBe('no-cache')
    expect(s.res.headers.get('x-accel-buffering')).toBe('no')
    // It starts from now: after the welcome that was there before.
    expect(s.from).toBe(newestOf(alice))

    const order = await placed(alice)
    const received = await s.event()
    expect(received).toMatchObject({
      event: 'notification',
      view: { userId: alice.id, notice: 'order-received', subject: order.orderId, read: false },
    })
    expect(received?.id).toBe(received?.view.id)
    expect(received?.view).toEqual(
      (await h.call('GET', `/api/notifications/${received?.id}`, { token: alice.token })).body,
    )
    // An announcement reaches the stream the same way.
    await tell(admin, alice, 'Maintenance tonight')
    expect(await s.event()).toMatchObject({ view: { notice: 'announcement', title: 'Maintenance tonight' } })
  })

  test('a reconnect with Last-Event-ID gets everything written meanwhile, once, in order, then follows on', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const first = await follow(alice)
    await tell(admin, alice, 'one')
    const one = await first.event()
    expect(one?.view.title).toBe('one')
    await first.cancel()

    // While the client is away: a notice from an event (delivered twice, as the harness's bus does)
    // and two announcements.
    await placed(alice)
    await tell(admin, alice, 'two')
    await tell(admin, alice, 'three')
    const again = await follow(alice, { 'last-event-id': one?.id as string })
    expect(again.from).toBe(one?.id as string)
    const missed = [await again.event(), await again.event(), await again.event()]
    expect(missed.map((e) => (e?.view.notice === 'announcement' ? e.view.title : e?.view.notice))).toEqual([
      'order-received',
      'two',
      'three',
    ])
    await tell(admin, alice, 'four')
    expect((await again.event())?.view.title).toBe('four')
    // Every event is a notification of hers, and each came once.
    const ids = [one, ...missed].map((e) => e?.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  test('a client that leaves before any event resumes from where the stream started', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const first = await follow(alice)
    await first.cancel()
    await tell(admin, alice, 'while away')
    // What an EventSource sends back is the last id it saw: the stream's opening one.
    const again = await follow(alice, { 'last-event-id': first.from })
    expect((await again.event())?.view.title).toBe('while away')
  })

  test('someone with no notification yet starts before all of them', async () => {
    const stranger = { id: crypto.randomUUID(), role: 'user' as const, username: 'x', email: '' }
    const who = { ...stranger, token: await h.token('user', { sub: stranger.id }) }
    const s = await follow(who)
    expect(s.from).toBe(BEFORE_ALL)
    await s.cancel()
    // Their first notification, the order they placed, is there on reconnect.
    await placed(who)
    const again = await follow(who, { 'last-event-id': s.from })
    expect((await again.event())?.view.notice).toBe('order-received')
  })

  test('a backlog longer than a page comes whole, in order', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    for (let i = 0; i < 250; i++) await tell(admin, alice, `n${i}`)
    const s = await follow(alice, { 'last-event-id': BEFORE_ALL })
    const titles: string[] = []
    for (let i = 0; i < 251; i++) titles.push((await s.event())?.view.title)
    expect(titles).toEqual(['Welcome to Mart', ...Array.from({ length: 250 }, (_, i) => `n${i}`)])
    await tell(admin, alice, 'live')
    expect((await s.event())?.view.title).toBe('live')
  })

  test("another user's notifications never appear, nor the admins' on a user's stream", async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const bob = await h.person()
    const mine = await follow(alice)
    const admins = await follow(admin)

    // Bob's order: his order-received, and admin-new-order for the admin; a new user's welcome.
    const order = await placed(bob)
    await tell(admin, bob, 'for bob')
    await h.person()
    // Then one for alice: the first (and only) thing on her stream.
    await tell(admin, alice, 'for alice')
    const first = await mine.event()
    expect(first?.view).toMatchObject({ userId: alice.id, title: 'for alice' })

    // The admin's stream has the admin's own notices, not bob's.
    const seen = await admins.event()
    expect(seen?.view).toMatchObject({ userId: admin.id, notice: 'admin-new-order', subject: order.orderId })
    await tell(admin, admin, 'for the admin')
    expect((await admins.event())?.view).toMatchObject({ userId: admin.id, title: 'for the admin' })

    // A Last-Event-ID of someone else's notification is only a place in time: still only her own.
    const bobs = h.svc.store.sqlite
      .prepare('SELECT min(id) AS id FROM notifications WHERE user_id = ?')
      .get(bob.id) as { id: string }
    const resumed = await follow(alice, { 'last-event-id': bobs.id })
    expect((await resumed.event())?.view).toMatchObject({ userId: alice.id, title: 'for alice' })
  })

  test('without a token 401; a Last-Event-ID that is not a notification id is a 422', async () => {
    const alice = await h.person()
    expect((await open({ id: 'x', token: 'not-a-token' })).status).toBe(401)
    for (const bad of ['1', 'abc', '0198C0DE-0000-7000-8000-000000000000', `${BEFORE_ALL}0`]) {
      const res = await open(alice, { 'last-event-id': bad })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      const problem = (await res.json()) as { errors: { path: string }[] }
      expect(problem.errors.map((e) => e.path)).toEqual(['/headers/last-event-id'])
    }
  })

  test('past 5 open streams a user gets 429 with Retry-After; a closed stream frees its place', async () => {
    const alice = await h.person()
    const bob = await h.person()
    const streams = []
    for (let i = 0; i < 5; i++) streams.push(await follow(alice))
    const refused = await open(alice)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    // The bound is per user.
    await follow(bob)

    await streams[0]?.cancel()
    await waitFor(async () => {
      const res = await open(alice)
      if (res.status === 200) readers.push(sseReader(res))
      return res.status === 200
    }, 'the closed stream to free its place')
  })

  test('a revoked token ends the stream before the next event', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const s = await follow(alice)
    const now = Date.now()
    await h.apply([
      'user.sessions_revoked',
      {
        userId: alice.id,
        notBefore: new Date(now).toISOString(),
        expiresAt: new Date(now + 3_600_000).toISOString(),
        reason: 'logged_out_everywhere',
      },
      alice.id,
    ])
    await tell(admin, alice, 'after logout')
    expect(await s.rest()).toEqual([])
  })

  test('the service stopping ends open streams and refuses new ones; stop completes with one open', async () => {
    const alice = await h.person()
    const s = await follow(alice)
    h.svc.endStreams()
    expect(await s.rest()).toEqual([])
    const refused = await open(alice)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  test('a stream open when the service stops ends, and the stop completes', async () => {
    const alice = await h.person()
    const s = await follow(alice)
    stopped = true
    await Promise.all([h.stop(), expect(s.rest()).resolves.toEqual([])])
  })
})

test('/docs lists the stream: text/event-stream and its problems', async () => {
  const doc = (await h.call('GET', '/docs/json')).body
  const op = doc.paths['/api/notifications/stream'].get
  expect(Object.keys(op.responses[200].content)).toEqual(['text/event-stream'])
  expect(Object.keys(op.responses).sort()).toEqual(['200', '401', '422', '429', '503'])
  expect(op.responses[429].content['application/problem+json']).toBeDefined()
  expect(op.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'last-event-id' }))
})

describe('NotificationStreams with limits of the test', () => {
  /** The module as the service builds it, on the harness's database and keys, with `limits`. */
  async function streamsWith(limits: Partial<StreamLimits>, refuses = () => false) {
    const verifier = await verifierFromConfig(h.svc.config, { refuses })
    const deps = {
      inbox: new Inbox(h.svc.store),
      changes: new NotificationChanges(),
      verifier,
      log: h.svc.log,
    }
    return new NotificationStreams(deps, limits)
  }
  const requestOf = (who: Who) =>
    new Request('http://notification.mart.test/', { headers: { authorization: `Bearer ${who.token}` } })
  const principal = (who: Person) => ({ id: who.id, role: who.role, username: who.username })

  test('a keep-alive comment comes between events; a token refused at a heartbeat ends the stream', async () => {
    const alice = await h.person()
    let revoked = false
    const streams = await streamsWith({ heartbeatMs: 5 }, () => revoked)
    const s = sseReader(
      streams.stream({ request: requestOf(alice), user: principal(alice), lastEventId: undefined }),
    )
    readers.push(s)
    expect(await s.next()).toEqual({ retry: '3000' })
    expect(await s.next()).toEqual({ id: newestOf(alice) })
    expect(await s.next()).toEqual({ comment: 'keep-alive' })
    revoked = true
    // Heartbeats already queued may still arrive; then the stream ends.
    for (let f = await s.next(); f; f = await s.next()) expect(f).toEqual({ comment: 'keep-alive' })
    expect(streams.size).toBe(0)
  })

  test('past the per-process bound, 429', async () => {
    const alice = await h.person()
    const bob = await h.person()
    const streams = await streamsWith({ maxOpen: 1 })
    const first = streams.stream({
      request: requestOf(alice),
      user: principal(alice),
      lastEventId: undefined,
    })
    readers.push(sseReader(first))
    expect(() =>
      streams.stream({ request: requestOf(bob), user: principal(bob), lastEventId: undefined }),
    ).toThrow(expect.objectContaining({ status: 429 }))
  })
})
