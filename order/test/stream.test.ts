// GET /api/orders/:id/stream as a client sees it: the order's versions as events, live, resumable
// with Last-Event-ID, ending after a final state, and refused the way the other routes refuse.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { verifierFromConfig } from '@mart/shared'
import { waitFor } from '@mart/shared/testing'
import { OrderChanges } from '../src/changes.ts'
import { OrderReads } from '../src/reads.ts'
import { OrderStreams, type StreamLimits } from '../src/stream.ts'
import { sseReader } from './sse.ts'
import { type OrderHarness, payment, reserved, startOrder } from './support.ts'

let h: OrderHarness
let stopped = false
const readers: ReturnType<typeof sseReader>[] = []
beforeEach(async () => {
  stopped = false
  h = await startOrder()
  await h.product('p1', 1999)
})
afterEach(async () => {
  for (const r of readers.splice(0)) await r.cancel().catch(() => {})
  if (!stopped) await h.stop()
})

type Who = { id: string; token: string }

/** GET the stream as `who`, the way EventSource asks for it. */
const open = (who: Who, orderId: string, headers: Record<string, string> = {}) =>
  h.svc.app.handle(
    new Request(`http://order.mart.test/api/orders/${orderId}/stream`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${who.token}`, ...headers },
    }),
  )

/** Opens the stream and reads it; the test's cleanup closes it. */
async function follow(who: Who, orderId: string, headers: Record<string, string> = {}) {
  const res = await open(who, orderId, headers)
  expect(res.status).toBe(200)
  const reader = sseReader(res)
  readers.push(reader)
  return { res, ...reader }
}

async function placeOrder(who: Who): Promise<string> {
  const res = await h.place(who, h.lines(['p1', 1]))
  expect(res.status).toBe(202)
  return res.body.id as string
}

const rejected = (orderId: string) => ({
  orderId,
  reasons: [{ productId: 'p1', reason: 'insufficient_stock' as const, requested: 1, available: 0 }],
})

describe('GET /api/orders/:id/stream', () => {
  test('sends the order as it is, then each change: pending, then unpaid', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    const s = await follow(alice, id)
    expect(s.res.headers.get('content-type')).toBe('text/event-stream')
    expect(s.res.headers.get('cache-control')).toBe('no-cache')
    expect(s.res.headers.get('x-accel-buffering')).toBe('no')
    expect(await s.next()).toEqual({ retry: '3000' })

    const first = await s.event()
    expect(first).toMatchObject({ id: '1', event: 'order', view: { id, status: 'pending', version: 1 } })
    await h.apply(['stock.reserved', reserved(id), id])
    const second = await s.event()
    expect(second).toMatchObject({ id: '2', event: 'order', view: { id, status: 'unpaid', version: 2 } })
    // The view is the one GET /api/orders/:id answers.
    expect(second?.view).toEqual((await h.call('GET', `/api/orders/${id}`, { token: alice.token })).body)
  })

  test('a reconnect with Last-Event-ID gets every later version once, in order, then follows on', async () => {
    const alice = await h.person()
    const admin = await h.person('admin')
    const id = await placeOrder(alice)
    const first = await follow(alice, id)
    expect((await first.event())?.version).toBe(1)
    await first.cancel()

    // Two changes while the client is away.
    await h.apply(['stock.reserved', reserved(id), id], ['payment.cod_selected', payment(id, alice.id), id])
    const again = await follow(alice, id, { 'last-event-id': '1' })
    const missed = [await again.event(), await again.event()]
    expect(missed.map((e) => [e?.version, e?.view.status])).toEqual([
      [2, 'unpaid'],
      [3, 'confirmed'],
    ])
    expect((await h.call('POST', `/api/orders/${id}/ship`, { token: admin.token })).status).toBe(200)
    expect(await again.event()).toMatchObject({ version: 4, view: { status: 'shipped' } })
  })

  test('ends after a final state, and a reconnect that has it gets 204', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    const s = await follow(alice, id)
    expect((await s.event())?.view.status).toBe('pending')
    await h.apply(['stock.rejected', rejected(id), id])
    // The final version, then the end of the stream.
    expect((await s.rest()).map((e) => [e.version, e.view.status])).toEqual([[2, 'rejected']])

    const reconnect = await open(alice, id, { 'last-event-id': '2' })
    expect(reconnect.status).toBe(204)
    expect(await reconnect.text()).toBe('')
    // Without Last-Event-ID: the whole history, then the end.
    const whole = await follow(alice, id)
    expect((await whole.rest()).map((e) => e.view.status)).toEqual(['pending', 'rejected'])
  })

  test('a cancellation by the owner ends the stream', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    const s = await follow(alice, id, { 'last-event-id': '1' })
    const cancel = await h.call('POST', `/api/orders/${id}/cancel`, { token: alice.token, body: {} })
    expect(cancel.status).toBe(200)
    expect((await s.rest()).map((e) => e.view.status)).toEqual(['cancelled'])
  })

  test("another user's order is a 404; an admin may follow it", async () => {
    const alice = await h.person()
    const mallory = await h.person()
    const admin = await h.person('admin')
    const id = await placeOrder(alice)
    const res = await open(mallory, id)
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect((await open(mallory, 'no-such-order')).status).toBe(404)
    expect((await (await follow(admin, id)).event())?.view.status).toBe('pending')
    expect((await open({ id: 'x', token: 'not-a-token' }, id)).status).toBe(401)
  })

  test('a Last-Event-ID that is not a version is a 422', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    for (const bad of ['abc', '-1', '1.5', '0x10']) {
      const res = await open(alice, id, { 'last-event-id': bad })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      const problem = (await res.json()) as { errors: { path: string; message: string }[] }
      expect(problem.errors).toEqual([
        { path: '/headers/last-event-id', message: expect.stringMatching(/integer|at least/) },
      ])
    }
  })

  test('past 5 open streams a user gets 429 with Retry-After; a closed stream frees its place', async () => {
    const alice = await h.person()
    const bob = await h.person()
    const id = await placeOrder(alice)
    const streams = []
    for (let i = 0; i < 5; i++) streams.push(await follow(alice, id))
    const refused = await open(alice, id)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    // The bound is per user.
    await follow(bob, await placeOrder(bob))

    // A client that goes away (its request aborted) gives its place back.
    const controller = new AbortController()
    await streams[0]?.cancel()
    const sixth = await waitFor(async () => {
      const res = await h.svc.app.handle(
        new Request(`http://order.mart.test/api/orders/${id}/stream`, {
          headers: { authorization: `Bearer ${alice.token}` },
          signal: controller.signal,
        }),
      )
      return res.status === 200 ? res : null
    }, 'a place for a sixth stream')
    readers.push(sseReader(sixth))
    controller.abort()
    await waitFor(async () => {
      const res = await open(alice, id)
      if (res.status === 200) readers.push(sseReader(res))
      return res.status === 200
    }, 'the aborted stream to free its place')
  })

  test('a revoked token ends the stream before the next event', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    const s = await follow(alice, id)
    expect((await s.event())?.version).toBe(1)
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
    await h.apply(['stock.reserved', reserved(id), id])
    expect(await s.rest()).toEqual([])
  })

  test('the service stopping ends open streams and refuses new ones', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    const s = await follow(alice, id)
    expect((await s.event())?.version).toBe(1)
    h.svc.endStreams()
    expect(await s.rest()).toEqual([])
    const refused = await open(alice, id)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('content-type')).toBe('application/problem+json')

    // And stopping does all of it by itself: a stream open when stop begins does not hold it.
    stopped = true
    await h.stop()
  })
})

describe('stop', () => {
  test('a stream open when the service stops ends, and the stop completes', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    const s = await follow(alice, id)
    expect((await s.event())?.version).toBe(1)
    stopped = true
    await Promise.all([h.stop(), expect(s.rest()).resolves.toEqual([])])
  })
})

test('/docs lists the stream: text/event-stream and its problems', async () => {
  const doc = (await h.call('GET', '/docs/json')).body
  const op = doc.paths['/api/orders/{id}/stream'].get
  expect(Object.keys(op.responses[200].content)).toEqual(['text/event-stream'])
  expect(Object.keys(op.responses).sort()).toEqual(['200', '204', '401', '404', '422', '429', '503'])
  expect(op.responses[429].content['application/problem+json']).toBeDefined()
  expect(op.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'last-event-id' }))
})

describe('OrderStreams with limits of the test', () => {
  /** The module as the service builds it, on the harness's database and keys, with `limits`. */
  async function streamsWith(limits: Partial<StreamLimits>, refuses = () => false) {
    const verifier = await verifierFromConfig(h.svc.config, { refuses })
    const reads = new OrderReads(h.svc.store)
    return new OrderStreams({ reads, changes: new OrderChanges(), verifier, log: h.svc.log }, limits)
  }
  const requestOf = (who: Who) =>
    new Request('http://order.mart.test/', { headers: { authorization: `Bearer ${who.token}` } })
  const principal = (who: Who & { role: 'user' | 'admin' }) => ({ id: who.id, role: who.role, username: 'x' })

  test('a keep-alive comment comes between events; a token refused at a heartbeat ends the stream', async () => {
    const alice = await h.person()
    const id = await placeOrder(alice)
    let revoked = false
    const streams = await streamsWith({ heartbeatMs: 5 }, () => revoked)
    const res = streams.stream({
      request: requestOf(alice),
      user: principal(alice),
      orderId: id,
      lastEventId: 0,
    })
    const s = sseReader(res)
    readers.push(s)
    expect(await s.next()).toEqual({ retry: '3000' })
    expect((await s.next())?.id).toBe('1')
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
      orderId: await placeOrder(alice),
      lastEventId: undefined,
    })
    readers.push(sseReader(first))
    const second = { request: requestOf(bob), user: principal(bob), orderId: await placeOrder(bob) }
    expect(() => streams.stream({ ...second, lastEventId: undefined })).toThrow(
      expect.objectContaining({ status: 429 }),
    )
  })
})
