import { afterEach, beforeEach, expect, test } from 'bun:test'
import { waitFor } from '@mart/shared/testing'
import { type NotificationHarness, startNotification } from './support.ts'

let h: NotificationHarness
beforeEach(async () => {
  h = await startNotification()
})
afterEach(() => h.stop())

test('the ledger filters by each status', async () => {
  const admin = await h.person('admin', 'root')
  await h.person('user', 'alice')
  await waitFor(() => h.deliveries().every((d) => d.sentAt !== null), 'the welcome emails written', 10_000)
  for (const status of ['sent', 'queued', 'retrying', 'dead']) {
    const res = await h.call('GET', `/api/notifications/deliveries?status=${status}`, { token: admin.token })
    expect([status, res.status]).toEqual([status, 200])
    expect(res.body.items.every((d: { status: string }) => d.status === status)).toBe(true)
  }
  const sent = await h.call('GET', '/api/notifications/deliveries?status=sent', { token: admin.token })
  expect(sent.body.items.map((d: { to: string }) => d.to).sort()).toEqual([
    'alice@mart.test',
    'root@mart.test',
  ])
})
