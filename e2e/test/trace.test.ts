// One W3C traceparent, sent with the request that places an order, ties that order's work together:
// every event it causes carries the same trace id (each hop a span of its own), its expiry job runs
// in it, and each service's log lines about it say that trace id.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type EventType, MemoryBus } from '@mart/shared'
import { capturedLogger, waitFor } from '@mart/shared/testing'
import { type Marketplace, marketplace, type Name, type Person } from './support.ts'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

let m: Marketplace
let alice: Person
let logs: Partial<Record<Name, ReturnType<typeof capturedLogger>>>

beforeEach(async () => {
  logs = {}
  m = await marketplace(new MemoryBus(), {
    log: (name) => {
      logs[name] = capturedLogger(name, 'debug')
      return logs[name].log
    },
  })
  alice = await m.customer('alice')
}, 60_000)
afterEach(() => m.stop(), 60_000)

/** Places an order for one lamp with our traceparent; the order's id. */
async function placeTraced(): Promise<string> {
  const lamp = await m.createLamp(5, { amount: 2999, currency: 'EUR' })
  await m.orderable(lamp)
  const r = await m.call(
    'order',
    'POST',
    '/api/orders',
    { lines: [{ productId: lamp, quantity: 1 }] },
    alice.token,
    { headers: { traceparent: TRACEPARENT } },
  )
  expect(r.status).toBe(202)
  return r.body.id as string
}

/** The trace ids of the `type` events of the order on the bus (waits for at least one). */
async function traceIdsOf(type: EventType, orderId: string): Promise<string[]> {
  const seen = await waitFor(() => {
    const d = m.delivered(type, orderId)
    return d.length > 0 ? d : null
  }, type)
  return seen.map(({ headers }) => headers.traceparent?.split('-')[1] ?? 'none')
}

/** The log lines of `service` about these events (the consumer's, one per event applied). */
const linesAbout = (service: Name, eventIds: Set<string>) =>
  (logs[service]?.lines() ?? []).filter((l) => eventIds.has(l.eventId as string))

test('the traceparent of POST /api/orders reaches every event of the order and the log lines about it', async () => {
  const orderId = await placeTraced()
  await m.waitForStatus(orderId, 'unpaid')

  const types = ['order.placed', 'stock.reserved', 'order.awaiting_payment'] as const
  for (const type of types) expect(await traceIdsOf(type, orderId)).toEqual([TRACE_ID])
  // Each hop is a span of its own: the trace is the caller's, the span never is.
  for (const type of types) {
    expect(m.delivered(type, orderId)[0]?.headers.traceparent).not.toContain('00f067aa0ba902b7')
  }

  const eventIds = new Set(types.flatMap((type) => m.published(type, orderId).map((e) => e.id)))
  // Inventory applies order.placed; order, stock.reserved; payment and notification, both order events.
  const appliedBy: [Name, number][] = [
    ['inventory', 1],
    ['order', 1],
    ['payment', 2],
    ['notification', 2],
  ]
  for (const [service, events] of appliedBy) {
    const lines = await waitFor(() => {
      const ls = linesAbout(service, eventIds).filter((l) => l.msg === 'event applied')
      return ls.length >= events ? ls : null
    }, `${service} applying the order's events`)
    for (const line of lines)
      expect({ service, traceId: line.traceId }).toEqual({ service, traceId: TRACE_ID })
  }

  // The access line is written after the response went out (Elysia's afterResponse, on a later turn
  // of the event loop): wait for it rather than expect it already there.
  const access = await waitFor(
    () =>
      logs.order?.lines().find((l) => l.msg === 'request' && l.method === 'POST' && l.path === '/api/orders'),
    'the access line of POST /api/orders',
  )
  expect(access.traceId).toBe(TRACE_ID)
}, 60_000)

test('the expiry job runs in the trace that placed the order: order.expired and its log lines carry it', async () => {
  await m.restart('order', { ORDER_RESERVATION_TTL_SECONDS: '1' })
  const orderId = await placeTraced()
  await m.waitForStatus(orderId, 'expired')

  expect(await traceIdsOf('order.expired', orderId)).toEqual([TRACE_ID])
  expect(await traceIdsOf('stock.released', orderId)).toEqual([TRACE_ID])
  const job = await waitFor(
    () => logs.order?.lines().find((l) => l.msg === 'job done' && l.key === orderId),
    'the expiry job done',
  )
  expect(job.traceId).toBe(TRACE_ID)
}, 60_000)
