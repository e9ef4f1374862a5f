// The in-app API as a client sees it: each person their own notifications (an admin anyone's), read
// state kept on the server, email preferences per category, and the admins' announcements.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { sampleOrder } from '@mart/shared/testing'
import { type NotificationHarness, startNotification } from './support.ts'

let h: NotificationHarness
beforeEach(async () => {
  h = await startNotification()
})
afterEach(() => h.stop())

type Person = Awaited<ReturnType<NotificationHarness['person']>>

/** An announcement to one person, by `admin`: one more notification for them. */
async function tell(admin: Person, who: Person, title: string, extra: Record<string, unknown> = {}) {
  const res = await h.call('POST', '/api/notifications', {
    token: admin.token,
    body: { userId: who.id, title, body: `${title}, in full`, ...extra },
  })
  expect(res.status).toBe(201)
  return res.body
}

const list = async (who: Person, query = '') => {
  const res = await h.call('GET', `/api/notifications${query}`, { token: who.token })
  expect(res.status).toBe(200)
  return res.body as {
    items: { id: string; userId: string; title: string; read: boolean }[]
    nextCursor: string | null
  }
}

const titles = (page: { items: { title: string }[] }) => page.items.map((n) => n.title)

/** Everyone's notifications (an admin's `all=true`), every page. */
async function everything(admin: Person, query = 'all=true') {
  const out: { id: string; userId: string; title: string }[] = []
  let cursor: string | null = null
  do {
    const page: Awaited<ReturnType<typeof list>> = await list(
      admin,
      `?${query}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    )
    out.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return out
}

describe('GET /api/notifications', () => {
  test('own notifications, newest first, paged with a cursor, unread=true only the unread', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const bob = await h.person()
    for (const n of [1, 2, 3, 4]) await tell(admin, alice, `news ${n}`)
    await tell(admin, bob, 'for bob')

    const all = await list(alice)
    expect(titles(all)).toEqual(['news 4', 'news 3', 'news 2', 'news 1', 'Welcome to Mart'])
    expect(all.nextCursor).toBeNull()
    expect(all.items.every((n) => n.userId === alice.id)).toBe(true)

    const first = await list(alice, '?limit=2')
    expect(titles(first)).toEqual(['news 4', 'news 3'])
    expect(first.nextCursor).toEqual(expect.any(String))
    const second = await list(alice, `?limit=2&cursor=${first.nextCursor}`)
    expect(titles(second)).toEqual(['news 2', 'news 1'])
    const third = await list(alice, `?limit=2&cursor=${second.nextCursor}`)
    expect(titles(third)).toEqual(['Welcome to Mart'])
    expect(third.nextCursor).toBeNull()

    const news3 = all.items[1]?.id
    expect((await h.call('POST', `/api/notifications/${news3}/read`, { token: alice.token })).status).toBe(
      200,
    )
    expect(titles(await list(alice, '?unread=true'))).toEqual([
      'news 4',
      'news 2',
      'news 1',
      'Welcome to Mart',
    ])
    expect(titles(await list(alice, '?unread=false'))).toHaveLength(5)
    // Asking for one's own by id is the same as not asking.
    expect(titles(await list(alice, `?userId=${alice.id}`))).toHaveLength(5)
  })

  test('a cursor this list did not make, or a limit out of bounds, is a 422', async () => {
    const alice = await h.person()
    for (const q of ['?cursor=not-a-cursor', '?limit=0', '?limit=101', '?unread=maybe']) {
      const res = await h.call('GET', `/api/notifications${q}`, { token: alice.token })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
  })

  test("an admin reads one user's (userId=) or everyone's (all=true); a user asking for another's gets 403", async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const bob = await h.person()
    await tell(admin, alice, 'for alice')
    await tell(admin, bob, 'for bob')

    const alices = await list(admin, `?userId=${alice.id}`)
    expect(titles(alices)).toEqual(['for alice', 'Welcome to Mart'])
    // Without either, an admin's own.
    expect((await list(admin)).items.every((n) => n.userId === admin.id)).toBe(true)
    const everyone = await everything(admin)
    expect(new Set(everyone.map((n) => n.userId))).toEqual(new Set([admin.id, alice.id, bob.id]))
    expect(everyone.map((n) => n.title)).toContain('for bob')

    for (const q of [`?userId=${bob.id}`, '?all=true']) {
      const res = await h.call('GET', `/api/notifications${q}`, { token: alice.token })
      expect(res.status).toBe(403)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
    expect(titles(await list(alice, '?all=false'))).toEqual(['for alice', 'Welcome to Mart'])
  })

  test('without a token, 401', async () => {
    for (const [method, path] of [
      ['GET', '/api/notifications'],
      ['GET', '/api/notifications/unread-count'],
      ['GET', '/api/notifications/preferences'],
      ['POST', '/api/notifications/read-all'],
    ] as const) {
      expect((await h.call(method, path)).status).toBe(401)
    }
  })
})

test('unread-count counts only the caller’s unread', async () => {
  const admin = await h.person('admin')
  const alice = await h.person()
  const bob = await h.person()
  await tell(admin, alice, 'one')
  await tell(admin, alice, 'two')
  await tell(admin, bob, 'for bob')
  const count = async (who: Person) =>
    (await h.call('GET', '/api/notifications/unread-count', { token: who.token })).body
  expect(await count(alice)).toEqual({ count: 3 })
  const [latest] = (await list(alice)).items
  await h.call('POST', `/api/notifications/${latest?.id}/read`, { token: alice.token })
  expect(await count(alice)).toEqual({ count: 2 })
  expect(await count(bob)).toEqual({ count: 2 })
})

describe('one notification', () => {
  test('GET /:id: its owner or an admin; anyone else, or an id that is not there, 404', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const mallory = await h.person()
    await tell(admin, alice, 'hello alice')
    const [n] = (await list(alice)).items
    const own = await h.call('GET', `/api/notifications/${n?.id}`, { token: alice.token })
    expect(own.status).toBe(200)
    expect(own.body).toEqual({
      id: n?.id,
      userId: alice.id,
      category: 'account',
      notice: 'announcement',
      title: 'hello alice',
      body: 'hello alice, in full',
      subject: null,
      read: false,
      readAt: null,
      createdAt: expect.any(String),
    })
    const byAdmin = await h.call('GET', `/api/notifications/${n?.id}`, { token: admin.token })
    expect(byAdmin.body).toEqual(own.body)
    for (const id of [n?.id, 'no-such-notification']) {
      const res = await h.call('GET', `/api/notifications/${id}`, { token: mallory.token })
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
  })

  test('POST /:id/read marks it read once (the first time stays); another person’s is a 404', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const mallory = await h.person()
    const [n] = (await list(alice)).items
    const path = `/api/notifications/${n?.id}/read`
    expect((await h.call('POST', path, { token: mallory.token })).status).toBe(404)
    const read = await h.call('POST', path, { token: alice.token })
    expect(read.status).toBe(200)
    const { readAt } = read.body
    expect(typeof readAt).toBe('string')
    expect(read.body).toMatchObject({ id: n?.id, read: true })
    const again = await h.call('POST', path, { token: alice.token })
    expect(again.body.readAt).toBe(readAt)
    expect((await h.call('GET', `/api/notifications/${n?.id}`, { token: admin.token })).body.read).toBe(true)
  })

  test('POST /read-all marks only the caller’s', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const bob = await h.person()
    await tell(admin, alice, 'one')
    await tell(admin, bob, 'for bob')
    const res = await h.call('POST', '/api/notifications/read-all', { token: alice.token })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ marked: 2 })
    expect((await list(alice, '?unread=true')).items).toEqual([])
    expect((await h.call('POST', '/api/notifications/read-all', { token: alice.token })).body).toEqual({
      marked: 0,
    })
    expect(titles(await list(bob, '?unread=true'))).toEqual(['for bob', 'Welcome to Mart'])
  })

  test('DELETE /:id: its owner or an admin (204); anyone else 404, and it stays', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const mallory = await h.person()
    await tell(admin, alice, 'one')
    const [one, welcome] = (await list(alice)).items
    expect((await h.call('DELETE', `/api/notifications/${one?.id}`, { token: mallory.token })).status).toBe(
      404,
    )
    expect(titles(await list(alice))).toEqual(['one', 'Welcome to Mart'])

    const own = await h.call('DELETE', `/api/notifications/${one?.id}`, { token: alice.token })
    expect(own.status).toBe(204)
    expect(own.text).toBe('')
    expect((await h.call('GET', `/api/notifications/${one?.id}`, { token: alice.token })).status).toBe(404)
    expect((await h.call('DELETE', `/api/notifications/${one?.id}`, { token: alice.token })).status).toBe(404)

    expect((await h.call('DELETE', `/api/notifications/${welcome?.id}`, { token: admin.token })).status).toBe(
      204,
    )
    expect((await list(alice)).items).toEqual([])
  })
})

describe('preferences', () => {
  test('a user has account, orders and payments, email on until turned off; in-app always on', async () => {
    const alice = await h.person()
    const get = await h.call('GET', '/api/notifications/preferences', { token: alice.token })
    expect(get.status).toBe(200)
    const on = { email: true, inApp: true }
    expect(get.body).toEqual({ account: on, orders: on, payments: on })

    const patch = await h.call('PATCH', '/api/notifications/preferences', {
      token: alice.token,
      body: { orders: { email: false } },
    })
    expect(patch.status).toBe(200)
    expect(patch.body).toEqual({ account: on, orders: { email: false, inApp: true }, payments: on })
    expect((await h.call('GET', '/api/notifications/preferences', { token: alice.token })).body).toEqual(
      patch.body,
    )
    // Back on; an empty patch changes nothing.
    await h.call('PATCH', '/api/notifications/preferences', {
      token: alice.token,
      body: { orders: { email: true } },
    })
    const empty = await h.call('PATCH', '/api/notifications/preferences', { token: alice.token, body: {} })
    expect(empty.body).toEqual({ account: on, orders: on, payments: on })
  })

  test('a preference turned off stops the email, not the in-app notification', async () => {
    const alice = await h.person()
    await h.call('PATCH', '/api/notifications/preferences', {
      token: alice.token,
      body: { orders: { email: false } },
    })
    const order = { ...sampleOrder('o-1', [['p1', 1]]), userId: alice.id }
    await h.apply(['order.placed', order, order.orderId])
    expect(h.notificationsOf(alice.id).map((n) => n.notice)).toEqual(['welcome', 'order-received'])
    expect(
      h
        .deliveries()
        .filter((d) => d.address === alice.email)
        .map((d) => d.notice),
    ).toEqual(['welcome'])
  })

  test('admins also have stock and review; a user patching them gets 403 and nothing changes', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const on = { email: true, inApp: true }
    expect((await h.call('GET', '/api/notifications/preferences', { token: admin.token })).body).toEqual({
      account: on,
      orders: on,
      payments: on,
      stock: on,
      review: on,
    })
    const byAdmin = await h.call('PATCH', '/api/notifications/preferences', {
      token: admin.token,
      body: { stock: { email: false } },
    })
    expect(byAdmin.status).toBe(200)
    expect(byAdmin.body.stock).toEqual({ email: false, inApp: true })

    for (const body of [
      { stock: { email: false } },
      { review: { email: false }, orders: { email: false } },
    ]) {
      const res = await h.call('PATCH', '/api/notifications/preferences', { token: alice.token, body })
      expect(res.status).toBe(403)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
    expect(
      (await h.call('GET', '/api/notifications/preferences', { token: alice.token })).body.orders,
    ).toEqual(on)
  })

  test('an unknown category or field, or in-app turned off, is a 422', async () => {
    const alice = await h.person()
    for (const body of [
      { marketing: { email: false } },
      { orders: { sms: true } },
      { orders: { inApp: false } },
      { orders: { email: 'no' } },
      { orders: false },
    ]) {
      const res = await h.call('PATCH', '/api/notifications/preferences', { token: alice.token, body })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
  })
})

describe('announcements: POST /api/notifications', () => {
  test('to one user: in-app for them only, and no email unless asked', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const bob = await h.person()
    const before = h.deliveries().length
    expect(await tell(admin, alice, 'Maintenance tonight')).toEqual({ notified: 1, emailed: 0 })
    expect(h.notificationsOf(alice.id).map((n) => n.title)).toEqual([
      'Welcome to Mart',
      'Maintenance tonight',
    ])
    expect(h.notificationsOf(bob.id).map((n) => n.notice)).toEqual(['welcome'])
    expect(h.deliveries()).toHaveLength(before)
  })

  test('email: true adds one delivery per person who wants account email', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const bob = await h.person()
    await h.call('PATCH', '/api/notifications/preferences', {
      token: bob.token,
      body: { account: { email: false } },
    })
    const res = await h.call('POST', '/api/notifications', {
      token: admin.token,
      body: { role: 'user', title: 'New <shop> hours', body: 'Open\nevery day', email: true },
    })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({ notified: 2, emailed: 1 })
    expect(h.notificationsOf(bob.id).map((n) => n.title)).toEqual(['Welcome to Mart', 'New <shop> hours'])
    const sent = h.deliveries().filter((d) => d.notice === 'announcement')
    expect(sent.map((d) => d.address)).toEqual([alice.email])
    const html = h.svc.store.sqlite
      .prepare("SELECT html FROM deliveries WHERE notice = 'announcement'")
      .get() as { html: string }
    expect(html.html).toBe('<p>Open<br>every day</p>')
  })

  test('role admin, user or all reaches the right people; a disabled account gets nothing', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const gone = await h.person()
    await h.apply([
      'user.updated',
      { id: gone.id, username: gone.username, email: gone.email, role: 'user', disabled: true },
      gone.id,
    ])
    const announce = async (role: string, title: string) =>
      (await h.call('POST', '/api/notifications', { token: admin.token, body: { role, title, body: title } }))
        .body
    expect(await announce('admin', 'admins only')).toEqual({ notified: 1, emailed: 0 })
    expect(await announce('user', 'users only')).toEqual({ notified: 1, emailed: 0 })
    expect(await announce('all', 'everyone')).toEqual({ notified: 2, emailed: 0 })
    const seen = (p: Person) => h.notificationsOf(p.id).map((n) => n.title)
    expect(seen(admin)).toEqual(['Welcome to Mart', 'admins only', 'everyone'])
    expect(seen(alice)).toEqual(['Welcome to Mart', 'users only', 'everyone'])
    expect(seen(gone)).toEqual(['Welcome to Mart'])
  })

  test('a user gets 403; both or neither of userId and role, or an unknown role, is a 422', async () => {
    const admin = await h.person('admin')
    const alice = await h.person()
    const byUser = await h.call('POST', '/api/notifications', {
      token: alice.token,
      body: { role: 'all', title: 'hi', body: 'hi' },
    })
    expect(byUser.status).toBe(403)
    for (const body of [
      { title: 'hi', body: 'hi' },
      { userId: alice.id, role: 'user', title: 'hi', body: 'hi' },
      { role: 'everyone', title: 'hi', body: 'hi' },
      { role: 'all', title: '', body: 'hi' },
      { role: 'all', title: 'hi', body: 'hi', extra: true },
    ]) {
      const res = await h.call('POST', '/api/notifications', { token: admin.token, body })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
    }
    expect(h.notificationsOf(alice.id).map((n) => n.notice)).toEqual(['welcome'])
  })

  test('an announcement to someone not in the directory (or no longer active) is a 404 and tells nobody', async () => {
    const admin = await h.person('admin')
    const res = await h.call('POST', '/api/notifications', {
      token: admin.token,
      body: { userId: 'nobody', title: 'hi', body: 'hi' },
    })
    expect(res.status).toBe(404)
    expect(
      h.svc.store.sqlite
        .prepare("SELECT count(*) AS n FROM notifications WHERE notice = 'announcement'")
        .get(),
    ).toEqual({ n: 0 })
  })
})
