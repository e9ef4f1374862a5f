// Email delivery against a real SMTP server: the admins' ledger of it. Every event here reaches the
// service twice (the harness's duplicate delivery).
import { afterEach, describe, expect, test } from 'bun:test'
import { waitFor } from '@mart/shared/testing'
import { startSmtp } from './smtp.ts'
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

const quick = { EMAIL_RETRY_INITIAL_MS: '20' }

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
