// kill -9 of the notification service while it sends an email. Between "the SMTP server took the
// mail" and "the delivery is marked sent" the restarted service sends it again, with the same
// Message-ID: the one duplicate there can be. Killed before the server took it, the email arrives
// once. Either way nothing else is sent or notified twice.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { devTokenSigner, tempDir, waitFor } from '@mart/shared/testing'
import Database from 'better-sqlite3'
import { killAll, type NotificationProcess, spawnNotification } from './child.ts'
import { startSmtp } from './smtp.ts'

let tmp: ReturnType<typeof tempDir>
let smtp: Awaited<ReturnType<typeof startSmtp>>
beforeEach(async () => {
  tmp = tempDir('mart-notification-crash-')
  smtp = await startSmtp()
})
afterEach(async () => {
  await killAll()
  await smtp.stop()
  tmp.cleanup()
})

const start = () =>
  spawnNotification({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEST_LOG_LEVEL: process.env.TEST_LOG_LEVEL,
    NODE_ENV: 'test',
    DATA_DIR: tmp.dir,
    ...smtp.env(),
    // The hold below must not time the send out: only the kill ends it.
    SMTP_TIMEOUT_MS: '30000',
    // A job whose process died runs again this soon after the restart.
    JOBS_LEASE_SECONDS: '1',
    EMAIL_RETRY_INITIAL_MS: '20',
    // One partition: an event sent after the restart is handled after any the journal gives again.
    KAFKA_TOPIC_PARTITIONS: '1',
  })

/** A user.registered (its welcome email is the one sent here); answers the user's id. */
function register(p: NotificationProcess, name: string): string {
  const id = crypto.randomUUID()
  p.send(
    'user.registered',
    { id, username: name, email: `${name}@mart.test`, role: 'user', disabled: false },
    id,
  )
  return id
}

interface Delivery {
  to: string
  status: string
  messageId: string
}

async function get<T>(p: NotificationProcess, path: string, token: string): Promise<T> {
  const res = await fetch(`${p.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  expect(res.status).toBe(200)
  return (await res.json()) as T
}

/** The delivery to `name` as the ledger shows it, once it is `status`. */
const deliveryTo = (p: NotificationProcess, admin: string, name: string, status: string) =>
  waitFor(async () => {
    const { items } = await get<{ items: Delivery[] }>(p, '/api/notifications/deliveries', admin)
    return items.find((d) => d.to === `${name}@mart.test` && d.status === status)
  }, `the email to ${name} ${status}`)

/** The delivery rows in the database the killed process left. */
function rowsOnDisk() {
  const db = new Database(join(tmp.dir, 'notification.db'), { readonly: true })
  try {
    return db
      .prepare('SELECT address, message_id AS messageId, sent_at AS sentAt FROM deliveries ORDER BY address')
      .all() as { address: string; messageId: string; sentAt: number | null }[]
  } finally {
    db.close()
  }
}

/**
 * Kills the service while the server holds its reply to bob's welcome (`stored`: the server has it
 * already, or not yet), restarts it, and answers what arrived once everything settled.
 */
async function killWhileSendingToBob(stored: boolean) {
  const sign = await devTokenSigner(tmp.dir)
  const admin = await sign('admin')
  const first = await start()
  const alice = register(first, 'alice')
  const aliceMail = await deliveryTo(first, admin, 'alice', 'sent')

  smtp.holdReplies({ stored })
  const bob = register(first, 'bob')
  await waitFor(() => smtp.waiting === 1, 'bob’s welcome at the server, unanswered')
  await first.kill9()
  // The server sees the sender gone; the kill landed before bob's delivery was marked sent.
  await waitFor(() => smtp.waiting === 0, 'the server to see the connection closed')
  smtp.release()
  const onDisk = rowsOnDisk()
  expect(onDisk.map((r) => [r.address, r.sentAt !== null])).toEqual([
    ['alice@mart.test', true],
    ['bob@mart.test', false],
  ])

  const second = await start()
  const bobMail = await deliveryTo(second, admin, 'bob', 'sent')
  expect(bobMail.messageId).toBe(onDisk[1]?.messageId as string)
  // Sent after the restart on the same single partition: once it is handled, anything the journal
  // gave again before it has been too.
  const cy = register(second, 'cy')
  const cyMail = await deliveryTo(second, admin, 'cy', 'sent')
  const ledger = await get<{ items: Delivery[] }>(second, '/api/notifications/deliveries', admin)
  expect(ledger.items.map((d) => `${d.to} ${d.status}`).sort()).toEqual([
    'alice@mart.test sent',
    'bob@mart.test sent',
    'cy@mart.test sent',
  ])
  // Each person has their one in-app welcome.
  for (const id of [alice, bob, cy]) {
    const mine = await get<{ items: { notice: string }[] }>(
      second,
      '/api/notifications',
      await sign('user', { sub: id }),
    )
    expect(mine.items.map((n) => n.notice)).toEqual(['welcome'])
  }
  return { alice: aliceMail.messageId, bob: bobMail.messageId, cy: cyMail.messageId }
}

const countsOf = () => {
  const counts: Record<string, number> = {}
  for (const m of smtp.inbox) counts[m.messageId] = (counts[m.messageId] ?? 0) + 1
  return counts
}

test('killed after the server took the mail, before it was marked sent: sent again with the same Message-ID, the one duplicate', async () => {
  const ids = await killWhileSendingToBob(true)
  expect(countsOf()).toEqual({ [ids.alice]: 1, [ids.bob]: 2, [ids.cy]: 1 })
  // The same message, but for its MIME boundary and Date.
  const [one, two] = smtp.inbox.filter((m) => m.messageId === ids.bob).map(({ headers: _, ...m }) => m)
  expect(two).toEqual(one as NonNullable<typeof one>)
}, 60_000)

test('killed before the server took the mail: after the restart it arrives once', async () => {
  const ids = await killWhileSendingToBob(false)
  expect(countsOf()).toEqual({ [ids.alice]: 1, [ids.bob]: 1, [ids.cy]: 1 })
}, 60_000)
