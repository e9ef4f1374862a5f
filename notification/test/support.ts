// The notification service in the shared harness, with people in its directory and the events
// other services send it.
import type { Bus, EventData } from '@mart/shared'
import { startHarness } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export async function startNotification(
  opts: { bus?: Bus; env?: Record<string, string>; dir?: string } = {},
) {
  const h = await startHarness(definition, { ...opts, env: { EMAIL_MAX_ATTEMPTS: '3', ...opts.env } })

  /** A person registered through the user service (user.registered): their id and token. */
  async function person(
    role: 'user' | 'admin' = 'user',
    name = `u${Math.random().toString(36).slice(2, 8)}`,
  ) {
    const id = crypto.randomUUID()
    const snapshot: EventData<'user.registered'> = {
      id,
      username: name,
      email: `${name}@mart.test`,
      role,
      disabled: false,
    }
    await h.apply(['user.registered', snapshot, id])
    return { id, role, username: name, email: snapshot.email, token: await h.token(role, { sub: id }) }
  }

  const notificationsOf = (userId: string) =>
    h.svc.store.sqlite
      .prepare('SELECT notice, title, body FROM notifications WHERE user_id = ? ORDER BY id')
      .all(userId) as { notice: string; title: string; body: string }[]

  const deliveries = () =>
    h.svc.store.sqlite
      .prepare(
        'SELECT notice, address, sent_at AS sentAt, message_id AS messageId FROM deliveries ORDER BY id',
      )
      .all() as { notice: string; address: string; sentAt: number | null; messageId: string }[]

  /** What one event produced: in-app notifications and emails (delivery rows), whoever they are for. */
  const producedBy = (eventId: string) => ({
    inApp: h.svc.store.sqlite
      .prepare(
        'SELECT user_id AS userId, notice, title, body FROM notifications WHERE event_id = ? ORDER BY id',
      )
      .all(eventId) as { userId: string; notice: string; title: string; body: string }[],
    emails: h.svc.store.sqlite
      .prepare('SELECT address, notice, subject, text, html FROM deliveries WHERE event_id = ? ORDER BY id')
      .all(eventId) as { address: string; notice: string; subject: string; text: string; html: string }[],
  })

  return { ...h, person, notificationsOf, deliveries, producedBy }
}

export type NotificationHarness = Awaited<ReturnType<typeof startNotification>>
