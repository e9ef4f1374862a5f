// Email delivery against a real SMTP server: an email waits for a server that is down, gives up
// (visibly) on one that refuses the login and is sent again by an admin, is sent once however often
// its event is delivered, and a hung server fails a send within SMTP_TIMEOUT_MS. Every event here
// reaches the service twice (the harness's duplicate delivery).
import { afterEach, describe, expect, test } from 'bun:test'
import { catalog, encodeEvent, eventHeaders } from '@mart/shared'
import { sampleOrder, tempDir, waitFor } from '@mart/shared/testing'
import { type Received, startSilent, startSmtp } from './smtp.ts'
import { type NotificationHarness, startNotification } from './support.ts'

interface DeliveryView {
  id: string
  status: 'sent' | 'queued' | 'retrying' | 'dead'
  notice: string
  to: string
  messageId: string
  attempts: number
  lastError: string | null
  sentAt: string | null
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** A notification service that is stopped after the test. */
async function notification(opts: Parameters<typeof startNotification>[0]) {
  const h = await startNotification(opts)
  cleanups.push(() => h.stop())
  return h
}

async function smtpServer(opts: Parameters<typeof startSmtp>[0] = {}) {
  const smtp = await startSmtp(opts)
  cleanups.push(() => smtp.stop())
  return smtp
}

/** The ledger as an admin reads it (every page). */
async function ledger(h: NotificationHarness, status?: string): Promise<DeliveryView[]> {
  const token = await h.token('admin')
  const items: DeliveryView[] = []
  let cursor: string | null = null
  do {
    const q = new URLSearchParams({ limit: '100', ...(status && { status }), ...(cursor && { cursor }) })
    const res = await h.call('GET', `/api/notifications/deliveries?${q}`, { token })
    expect(res.status).toBe(200)
    items.push(...res.body.items)
    cursor = res.body.nextCursor
  } while (cursor)
  return items
}

/** Waits until the ledger's only delivery satisfies `ok`; answers it. */
const theDelivery = (h: NotificationHarness, what: string, ok: (d: DeliveryView) => boolean) =>
  waitFor(
    async () => {
      const all = await ledger(h)
      expect(all.length).toBeLessThanOrEqual(1)
      return all[0] && ok(all[0]) ? all[0] : null
    },
    what,
    15_000,
  )

/** Send jobs not finished (waiting, running): none means nothing more will be sent. */
const unfinishedSends = (h: NotificationHarness) =>
  (
    h.svc.store.sqlite
      .prepare(
        "SELECT count(*) AS n FROM mart_jobs WHERE kind = 'mail.send' AND state IN ('scheduled', 'running')",
      )
      .get() as { n: number }
  ).n

/** The Message-IDs that arrived, each with how many times. */
const countsOf = (inbox: Received[]) => {
  const counts: Record<string, number> = {}
  for (const m of inbox) counts[m.messageId] = (counts[m.messageId] ?? 0) + 1
  return counts
}

const quick = { EMAIL_RETRY_INITIAL_MS: '20' }

describe('the SMTP server down when the event arrives', () => {
  test('the email waits (retrying, with the error) and is sent once the server is back, once', async () => {
    const smtp = await smtpServer()
    await smtp.stop()
    const h = await notification({ env: { ...smtp.env(), ...quick, EMAIL_MAX_ATTEMPTS: '100' } })
    const alice = await h.person('user', 'alice')

    const failing = await theDelivery(h, 'a failed send', (d) => d.attempts >= 2 && d.lastError !== null)
    expect(failing).toMatchObject({ status: 'retrying', notice: 'welcome', to: alice.email, sentAt: null })
    expect(failing.lastError).toContain('ECONNREFUSED')
    expect(smtp.inbox).toHaveLength(0)

    await smtp.start()
    const sent = await theDelivery(h, 'the email sent', (d) => d.status === 'sent')
    expect(sent.sentAt).not.toBeNull()
    await waitFor(() => unfinishedSends(h) === 0, 'the send job to finish')
    expect(smtp.inbox).toHaveLength(1)
    expect(smtp.inbox[0]).toMatchObject({ to: [alice.email], messageId: sent.messageId })
  })

  test('a server that takes the connection and never greets fails the send (SMTP_TIMEOUT_MS), and a later try succeeds', async () => {
    const silent = await startSilent()
    cleanups.push(() => silent.stop())
    const smtp = await smtpServer()
    const env = { ...smtp.env(), SMTP_PORT: String(silent.port), SMTP_TIMEOUT_MS: '300' }
    const h = await notification({ env: { ...env, ...quick, EMAIL_MAX_ATTEMPTS: '100' } })
    await h.person('user', 'carol')

    const failing = await theDelivery(h, 'a timed-out send', (d) => d.lastError !== null)
    expect(failing.status).toBe('retrying')
    // nodemailer's greeting and socket timers both run SMTP_TIMEOUT_MS: either may fire first.
    expect(failing.lastError).toMatch(/^(Greeting never received|Timeout)$/)
    expect(silent.connections).toBeGreaterThanOrEqual(1)

    // The real server takes the hung one's port.
    await silent.stop()
    await smtp.stop()
    const real = await smtpServer({ port: silent.port })
    const sent = await theDelivery(h, 'the email sent', (d) => d.status === 'sent')
    await waitFor(() => unfinishedSends(h) === 0, 'the send job to finish')
    expect(countsOf(real.inbox)).toEqual({ [sent.messageId]: 1 })
  })
})

test('a refused login: retried, then dead with the reason (never the password); after the fix an admin retry sends it once', async () => {
  const data = tempDir('mart-notification-')
  cleanups.push(() => data.cleanup())
  const password = 'right-horse-battery'
  const wrong = 'wrong-horse-battery'
  const smtp = await smtpServer({ username: 'mart', password })
  const first = await startNotification({
    dir: data.dir,
    env: { ...smtp.env(), SMTP_PASSWORD: wrong, ...quick, EMAIL_MAX_ATTEMPTS: '3' },
  })
  let stopped = false
  cleanups.push(() => (stopped ? undefined : first.stop()))
  const dave = await first.person('user', 'dave')

  const dead = await theDelivery(first, 'the email dead', (d) => d.status === 'dead')
  expect(dead).toMatchObject({ attempts: 3, to: dave.email, sentAt: null })
  expect(dead.lastError).toContain('535')
  expect(await ledger(first, 'dead')).toEqual([dead])
  expect(await ledger(first, 'retrying')).toEqual([])
  expect(smtp.inbox).toHaveLength(0)
  const failures = first.logLines().filter((l) => l.msg === 'job failed; retrying' || l.msg === 'job dead')
  expect(failures.map((l) => l.msg)).toEqual(['job failed; retrying', 'job failed; retrying', 'job dead'])
  expect(JSON.stringify(dead)).not.toContain(wrong)
  expect(first.logText()).not.toContain(wrong)
  await first.stop()
  stopped = true

  // The password is fixed the only way it can be: a restart with the right one, on the same data.
  const h = await notification({ dir: data.dir, env: { ...smtp.env(), ...quick } })
  expect((await ledger(h))[0]?.status).toBe('dead')
  const retried = await h.call('POST', `/api/notifications/deliveries/${dead.id}/retry`, {
    token: await h.token('admin'),
  })
  expect(retried.status).toBe(200)
  expect(retried.body).toMatchObject({ id: dead.id, status: 'queued', attempts: 0, lastError: null })
  const sent = await theDelivery(h, 'the email sent', (d) => d.status === 'sent')
  await waitFor(() => unfinishedSends(h) === 0, 'the send job to finish')
  expect(countsOf(smtp.inbox)).toEqual({ [sent.messageId]: 1 })
  expect(h.logText()).not.toContain(password)
  expect(h.logText()).not.toContain(wrong)
})

test('every event delivered twice, and all of them twice more after a restart: each email arrives once', async () => {
  const data = tempDir('mart-notification-')
  cleanups.push(() => data.cleanup())
  const smtp = await smtpServer()
  const env = { ...smtp.env(), ADMIN_NOTIFY_EMAILS: 'ops@mart.test' }
  const first = await startNotification({ dir: data.dir, env })
  let stopped = false
  cleanups.push(() => (stopped ? undefined : first.stop()))
  const erin = crypto.randomUUID()
  const frank = crypto.randomUUID()
  const events = await first.apply(
    [
      'user.registered',
      { id: erin, username: 'erin', email: 'erin@mart.test', role: 'user', disabled: false },
      erin,
    ],
    [
      'user.registered',
      { id: frank, username: 'frank', email: 'frank@mart.test', role: 'admin', disabled: false },
      frank,
    ],
    ['order.placed', { ...sampleOrder('o-1', [['p-1', 2]]), userId: erin }, 'o-1'],
  )
  await waitFor(async () => (await ledger(first, 'sent')).length === 5, 'five emails sent')
  await waitFor(() => unfinishedSends(first) === 0, 'every send job to finish')
  const all = await ledger(first)
  expect(all.map((d) => `${d.notice} ${d.to}`).sort()).toEqual([
    'admin-new-order frank@mart.test',
    'admin-new-order ops@mart.test',
    'order-received erin@mart.test',
    'welcome erin@mart.test',
    'welcome frank@mart.test',
  ])
  const once = Object.fromEntries(all.map((d) => [d.messageId, 1]))
  expect(countsOf(smtp.inbox)).toEqual(once)
  await first.stop()
  stopped = true

  // Long after: the same events (same ids) come again, as a broker that lost its offsets sends them.
  const h = await notification({ dir: data.dir, env })
  for (const e of events) {
    await h.sendRaw(catalog[e.type].topic, e.subject, encodeEvent(e), eventHeaders(e.type))
  }
  await h.settled(...events)
  expect(await ledger(h)).toEqual(all)
  expect(unfinishedSends(h)).toBe(0)
  expect(countsOf(smtp.inbox)).toEqual(once)
})

describe('the ledger (GET /api/notifications/deliveries)', () => {
  test('filters by status, pages newest first, is for admins only; a sent email cannot be retried', async () => {
    const smtp = await smtpServer()
    const h = await notification({ env: { ...smtp.env(), ...quick, EMAIL_MAX_ATTEMPTS: '100' } })
    for (const name of ['gina', 'hal', 'ivy']) await h.person('user', name)
    await waitFor(async () => (await ledger(h, 'sent')).length === 3, 'three emails sent')
    await smtp.stop()
    const jo = await h.person('user', 'jo')
    await waitFor(async () => (await ledger(h, 'retrying')).length === 1, 'one email retrying')

    const all = await ledger(h)
    expect(all.map((d) => d.to)).toEqual(['jo', 'ivy', 'hal', 'gina'].map((n) => `${n}@mart.test`))
    expect((await ledger(h, 'sent')).map((d) => d.to)).toEqual(
      ['ivy', 'hal', 'gina'].map((n) => `${n}@mart.test`),
    )
    expect(await ledger(h, 'retrying')).toMatchObject([{ to: jo.email, sentAt: null }])
    expect(await ledger(h, 'dead')).toEqual([])

    const admin = await h.token('admin')
    const page1 = await h.call('GET', '/api/notifications/deliveries?limit=3', { token: admin })
    expect(page1.status).toBe(200)
    expect(page1.body.items.map((d: DeliveryView) => d.to)).toEqual(
      ['jo', 'ivy', 'hal'].map((n) => `${n}@mart.test`),
    )
    const page2 = await h.call(
      'GET',
      `/api/notifications/deliveries?limit=3&cursor=${page1.body.nextCursor}`,
      {
        token: admin,
      },
    )
    expect(page2.body).toMatchObject({ items: [{ to: 'gina@mart.test' }], nextCursor: null })
    const sentPage = await h.call('GET', '/api/notifications/deliveries?status=sent&limit=2', {
      token: admin,
    })
    expect(sentPage.body.items.map((d: DeliveryView) => d.to)).toEqual(['ivy@mart.test', 'hal@mart.test'])
    expect((await h.call('GET', '/api/notifications/deliveries?status=nope', { token: admin })).status).toBe(
      422,
    )

    const user = await h.token('user')
    expect((await h.call('GET', '/api/notifications/deliveries', { token: user })).status).toBe(403)
    expect((await h.call('GET', '/api/notifications/deliveries')).status).toBe(401)
    const sent = all[1] as DeliveryView
    expect(
      (await h.call('POST', `/api/notifications/deliveries/${sent.id}/retry`, { token: user })).status,
    ).toBe(403)
    const again = await h.call('POST', `/api/notifications/deliveries/${sent.id}/retry`, { token: admin })
    expect(again.status).toBe(409)
    expect((await h.call('POST', '/api/notifications/deliveries/nope/retry', { token: admin })).status).toBe(
      404,
    )
    expect(smtp.count(sent.messageId)).toBe(1)
  })
})

test('an admin retry while the email is being sent answers 409, and the email arrives once', async () => {
  const smtp = await smtpServer()
  await smtp.stop()
  const h = await notification({
    env: { ...smtp.env(), ...quick, EMAIL_MAX_ATTEMPTS: '100', JOBS_LEASE_SECONDS: '1' },
  })
  await h.person('user', 'kim')
  await theDelivery(h, 'a failed send', (d) => d.lastError !== null)
  // The next try reaches the server, which keeps the mail and has not answered yet.
  smtp.holdReplies({ stored: true })
  await smtp.start()
  await waitFor(() => smtp.waiting === 1, 'the mail at the server')
  const [sending] = await ledger(h)
  const retry = await h.call('POST', `/api/notifications/deliveries/${sending?.id}/retry`, {
    token: await h.token('admin'),
  })
  smtp.release()
  expect(retry.status).toBe(409)
  const sent = await theDelivery(h, 'the email sent', (d) => d.status === 'sent')
  await waitFor(() => unfinishedSends(h) === 0, 'the send job to finish')
  expect(countsOf(smtp.inbox)).toEqual({ [sent.messageId]: 1 })
})

test('the server keeps the mail but its 250 never comes (the send times out): sent again with the same Message-ID, the window’s one duplicate', async () => {
  const smtp = await smtpServer()
  const h = await notification({
    env: { ...smtp.env(), SMTP_TIMEOUT_MS: '300', ...quick, EMAIL_MAX_ATTEMPTS: '100' },
  })
  smtp.holdReplies({ stored: true, messages: 1 })
  await h.person('user', 'lee')
  const sent = await theDelivery(h, 'the email sent', (d) => d.status === 'sent')
  await waitFor(() => unfinishedSends(h) === 0, 'the send job to finish')
  expect(countsOf(smtp.inbox)).toEqual({ [sent.messageId]: 2 })
  const failures = h.logLines().filter((l) => l.msg === 'job failed; retrying')
  expect(failures.map((l) => l.error)).toEqual(['Timeout'])
})
