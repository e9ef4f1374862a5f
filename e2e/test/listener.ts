// The embedded marketplace (`bun run dev`) behind its real listener on a free port, for tests that
// need a socket (streams): started before each test, stopped after it with the streams it opened.
import { afterEach, beforeEach, expect } from 'bun:test'
import { type Embedded, type ServiceDefinition, startEmbedded } from '@mart/shared'
import { tempDir, testLogger, waitFor } from '@mart/shared/testing'
import { sseReader } from '../../order/test/sse.ts'

// biome-ignore lint/suspicious/noExplicitAny: each service has its own schema and config types
type AnyService = ServiceDefinition<any, any>

export function listenerPerTest(services: AnyService[], env: Record<string, string> = {}) {
  let tmp: ReturnType<typeof tempDir>
  let mart: Embedded | null = null
  const aborts: AbortController[] = []
  beforeEach(async () => {
    tmp = tempDir('mart-listener-')
    mart = await startEmbedded(services, {
      env: { NODE_ENV: 'test', DATA_DIR: tmp.dir, HOST: '127.0.0.1', ...env },
      port: 0,
      log: testLogger('embedded'),
    })
  }, 60_000)
  afterEach(async () => {
    for (const a of aborts.splice(0)) a.abort()
    await mart?.stop()
    mart = null
    tmp.cleanup()
  }, 60_000)

  const running = () => {
    if (!mart) throw new Error('the marketplace is not running')
    return mart
  }

  /** Calls the listener over the socket, as a client on this machine does. */
  const call = (path: string, token: string | null, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${running().url}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    })

  /** Opens an event stream over the socket; the test's cleanup aborts it if it is still open. */
  async function follow(path: string, token: string, headers: Record<string, string> = {}) {
    const abort = new AbortController()
    aborts.push(abort)
    const res = await fetch(`${running().url}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers },
      signal: abort.signal,
    })
    return { res, abort }
  }

  return {
    /** Stops the marketplace now (a test of stopping); the cleanup then has nothing to stop. */
    async stop() {
      const stopping = running().stop()
      mart = null
      await stopping
    },
    get mart() {
      return running()
    },
    get dir() {
      return tmp.dir
    },
    call,
    follow,
    placeLampOrder: (admin: string, customer: string) => placeLampOrder(call, admin, customer),
    unpaidLampOrder: (admin: string, customer: string) => unpaidLampOrder(call, admin, customer),
  }
}

/** A client's call over a socket: to the embedded listener, or to the gateway. */
export type SocketCall = (
  path: string,
  token: string | null,
  init?: { method?: string; body?: unknown },
) => Promise<Response>

/** A lamp in the catalogue (created by `admin`, 10 in stock) and `customer`'s order for one: its id. */
export async function placeLampOrder(call: SocketCall, admin: string, customer: string): Promise<string> {
  const created = await call('/api/products', admin, {
    method: 'POST',
    body: { name: 'Lamp', description: 'A lamp', price: { amount: 2500, currency: 'EUR' }, initialStock: 10 },
  })
  expect(created.status).toBe(201)
  const { id: productId } = (await created.json()) as { id: string }
  // The order service learns of the product over the bus: until then it is a 422.
  const placed = await waitFor(async () => {
    const r = await call('/api/orders', customer, {
      method: 'POST',
      body: { lines: [{ productId, quantity: 1 }] },
    })
    return r.status === 202 ? ((await r.json()) as { id: string }) : null
  }, 'the order service to know the lamp')
  return placed.id
}

/** The same order, once inventory has reserved it (`unpaid`). */
export async function unpaidLampOrder(call: SocketCall, admin: string, customer: string): Promise<string> {
  const id = await placeLampOrder(call, admin, customer)
  await waitFor(async () => {
    const r = await call(`/api/orders/${id}`, customer)
    return ((await r.json()) as { status: string }).status === 'unpaid'
  }, 'inventory to reserve the order')
  return id
}

/**
 * Reads an order's stream (of an unpaid order) while it is open, as a client through a listener
 * or a proxy does: pending and unpaid arrive before anything ended the response; only then is the
 * order cancelled (`cancel`), and its event comes on the same response, which then ends.
 */
export async function expectLiveOrderStream(res: Response, cancel: () => Promise<Response>): Promise<void> {
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  const s = sseReader(res)
  expect([await s.event(), await s.event()].map((e) => [e?.version, e?.view.status])).toEqual([
    [1, 'pending'],
    [2, 'unpaid'],
  ])
  expect((await cancel()).status).toBe(200)
  expect((await s.rest()).map((e) => [e.version, e.view.status])).toEqual([[3, 'cancelled']])
}
