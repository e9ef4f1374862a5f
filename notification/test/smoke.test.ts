import { afterEach, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '@mart/shared/testing'
import { startSmtp } from './smtp.ts'
import { type NotificationHarness, startNotification } from './support.ts'

let h: NotificationHarness
afterEach(() => h.stop())

test('without SMTP_SERVER the welcome email is an .eml file under DATA_DIR/mail, and an in-app notification', async () => {
  h = await startNotification()
  const alice = await h.person('user', 'alice')
  expect(h.notificationsOf(alice.id).map((n) => n.notice)).toEqual(['welcome'])
  const dir = join(h.dir, 'mail')
  await waitFor(() => h.deliveries()[0]?.sentAt, 'the delivery marked sent', 10_000)
  const files = readdirSync(dir).filter((f) => f.endsWith('.eml'))
  expect(files).toHaveLength(1)
  const eml = readFileSync(join(dir, files[0] as string), 'utf8')
  expect(eml).toContain('To: alice@mart.test')
  expect(eml).toContain('Subject: Welcome to Mart')
  expect(eml).toContain(`Message-ID: ${h.deliveries()[0]?.messageId}`)
})

test('with an SMTP server the welcome email arrives there, with both parts and its Message-ID', async () => {
  const smtp = await startSmtp()
  h = await startNotification({ env: smtp.env() })
  await h.person('user', 'bob')
  await waitFor(() => smtp.inbox.length === 1, 'the email', 10_000)
  const [mail] = smtp.inbox
  expect(mail).toMatchObject({
    to: ['bob@mart.test'],
    subject: 'Welcome to Mart',
    messageId: h.deliveries()[0]?.messageId,
  })
  expect(mail?.text).toContain('Hello bob')
  expect(mail?.html).toContain('<p>Hello bob,</p>')
  await waitFor(() => h.deliveries()[0]?.sentAt !== null, 'the delivery marked sent', 10_000)
  await smtp.stop()
})
