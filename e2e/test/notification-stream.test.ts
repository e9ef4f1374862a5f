// A person's notification stream over a real socket, through the embedded listener (`bun run dev`):
// the welcome from registering, then the order they place and an admin's announcement, each leaving
// as it is written rather than when the response ends; a client that goes away frees its place; and
// the marketplace stops with streams open.
import { expect, test } from 'bun:test'
import { type Embedded, STREAM_IDLE_SECONDS } from '@mart/shared'
import { sseReader, waitFor } from '@mart/shared/testing'
import { definition as inventory } from '../../inventory/src/index.ts'
import { definition as notification } from '../../notification/src/index.ts'
import { BEFORE_ALL } from '../../notification/src/stream.ts'
import { definition as order } from '../../order/src/index.ts'
import { definition as product } from '../../product/src/index.ts'
import { definition as user } from '../../user/src/index.ts'
import { ADMIN, userTestEnv } from '../../user/test/support.ts'
import { listenerPerTest } from './listener.ts'

const mart = listenerPerTest([user, product, inventory, order, notification], userTestEnv)
const { call } = mart

async function login(username: string, password: string): Promise<string> {
  const res = await call('/api/auth/login', null, { method: 'POST', body: { username, password } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { accessToken: string }).accessToken
}

/** Alice registered through the user service and signed in, and the seeded admin signed in. */
async function people() {
  const reg = await call('/api/auth/register', null, {
    method: 'POST',
    body: { username: 'alice', email: 'alice@mart.test', password: 'alice-password' },
  })
  expect(reg.status).toBe(201)
  const { id } = (await reg.json()) as { id: string }
  return {
    alice: { id, token: await login('alice', 'alice-password') },
    admin: await login(ADMIN.username, ADMIN.password),
  }
}

/** Opens the caller's notification stream over the socket. */
const follow = (token: string, lastEventId?: string) =>
  mart.follow('/api/notifications/stream', token, lastEventId ? { 'last-event-id': lastEventId } : {})

test('notifications leave as they are written through the embedded listener', async () => {
  const { alice, admin } = await people()
  // From before all of hers: the welcome, whether the notification service has written it yet or not.
  const { res } = await follow(alice.token, BEFORE_ALL)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  expect(res.headers.get('x-accel-buffering')).toBe('no')
  const s = sseReader(res)
  const welcome = await s.event()
  expect(welcome).toMatchObject({ event: 'notification', view: { userId: alice.id, notice: 'welcome' } })

  // Only now does she order; its notice arrives on the same open response.
  const orderId = await mart.placeLampOrder(admin, alice.token)
  const next = await s.event()
  expect(next?.view).toMatchObject({ userId: alice.id, notice: 'order-received', subject: orderId })
  const byId = await call(`/api/notifications/${next?.id}`, alice.token)
  expect(await byId.json()).toEqual(next?.view as Record<string, unknown>)

  const announced = await call('/api/notifications', admin, {
    method: 'POST',
    body: { userId: alice.id, title: 'Lamps are back', body: 'In every colour.' },
  })
  expect(announced.status).toBe(201)
  // Whatever else her order brings (reserved, pay by...) comes first; the announcement follows.
  for (let e = await s.event(); ; e = await s.event()) {
    expect(e?.view.userId).toBe(alice.id)
    if (e?.view.notice === 'announcement') {
      expect(e.view.title).toBe('Lamps are back')
      break
    }
  }
}, 60_000)

test('a client that disconnects frees its place; the marketplace stops with a stream open', async () => {
  const { alice } = await people()
  // Her welcome written first, so nothing new is on its way to the streams opened from now on.
  await waitFor(async () => {
    const r = await call('/api/notifications', alice.token)
    return ((await r.json()) as { items: unknown[] }).items.length === 1
  }, 'the welcome')
  const open = []
  for (let i = 0; i < 5; i++) open.push(await follow(alice.token))
  expect(open.map((o) => o.res.status)).toEqual([200, 200, 200, 200, 200])
  expect((await follow(alice.token)).res.status).toBe(429)

  // Closing the connection is all a client does when it leaves.
  open[0]?.abort.abort()
  const sixth = await waitFor(async () => {
    const next = await follow(alice.token)
    return next.res.status === 200 ? next : null
  }, 'the closed stream to free its place')

  // Stopping does not wait for the open streams: they end, and the stop completes.
  const s = sseReader(sixth.res)
  expect(await s.next()).toEqual({ retry: '3000' })
  await mart.stop()
  expect(await s.rest()).toEqual([])
}, 60_000)

test('the listener gives the stream longer than its idle timeout, which would cut it between heartbeats', async () => {
  const { alice } = await people()
  const timeouts: number[] = []
  const listener = {
    requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 1 }),
    timeout: (_request: Request, seconds: number) => void timeouts.push(seconds),
  }
  const ask = (path: string) =>
    mart.mart.fetch(
      new Request(`${mart.mart.url}${path}`, { headers: { authorization: `Bearer ${alice.token}` } }),
      listener as unknown as Parameters<Embedded['fetch']>[1],
    )
  expect((await ask('/api/notifications/unread-count'))?.status).toBe(200)
  expect(timeouts).toEqual([])
  const stream = await ask('/api/notifications/stream')
  expect(stream?.status).toBe(200)
  await stream?.body?.cancel()
  expect(timeouts).toEqual([STREAM_IDLE_SECONDS])
}, 60_000)
