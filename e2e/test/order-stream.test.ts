// An order's event stream over a real socket, through the embedded listener (`bun run dev`): the
// events leave as they happen, not when the response ends; a client that goes away frees its place;
// and the marketplace stops with streams open.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Embedded, STREAM_IDLE_SECONDS, startEmbedded } from '@mart/shared'
import { devTokenSigner, tempDir, testLogger, waitFor } from '@mart/shared/testing'
import { definition as inventory } from '../../inventory/src/index.ts'
import { definition as order } from '../../order/src/index.ts'
import { sseReader } from '../../order/test/sse.ts'
import { definition as product } from '../../product/src/index.ts'

let tmp: ReturnType<typeof tempDir>
let mart: Embedded | null
const aborts: AbortController[] = []
beforeEach(async () => {
  tmp = tempDir('mart-stream-')
  mart = await startEmbedded([product, inventory, order], {
    env: { NODE_ENV: 'test', DATA_DIR: tmp.dir, HOST: '127.0.0.1' },
    port: 0,
    log: testLogger('embedded'),
  })
}, 60_000)
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort()
  await mart?.stop()
  tmp.cleanup()
}, 60_000)

/** Signed-in people, with the keys the embedded services verify with. */
async function people() {
  const sign = await devTokenSigner(tmp.dir)
  const admin = await sign('admin')
  const aliceId = crypto.randomUUID()
  return { admin, alice: await sign('user', { sub: aliceId }) }
}

/** Calls the listener over the socket, as a client on this machine does. */
function call(path: string, token: string, init: { method?: string; body?: unknown } = {}) {
  return fetch(`${mart?.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
}

/** Opens the stream over the socket; the test's cleanup aborts it if it is still open. */
async function follow(token: string, orderId: string) {
  const abort = new AbortController()
  aborts.push(abort)
  const res = await fetch(`${mart?.url}/api/orders/${orderId}/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  })
  return { res, abort }
}

/** A lamp in the catalogue and in stock, and an order for one that inventory has reserved. */
async function unpaidOrder(admin: string, alice: string): Promise<string> {
  const created = await call('/api/products', admin, {
    method: 'POST',
    body: { name: 'Lamp', description: 'A lamp', price: { amount: 2500, currency: 'EUR' }, initialStock: 10 },
  })
  expect(created.status).toBe(201)
  const { id: productId } = (await created.json()) as { id: string }
  // The order service learns of the product over the bus: until then it is a 422.
  const placed = await waitFor(async () => {
    const r = await call('/api/orders', alice, {
      method: 'POST',
      body: { lines: [{ productId, quantity: 1 }] },
    })
    return r.status === 202 ? ((await r.json()) as { id: string }) : null
  }, 'the order service to know the lamp')
  await waitFor(async () => {
    const r = await call(`/api/orders/${placed.id}`, alice)
    return ((await r.json()) as { status: string }).status === 'unpaid'
  }, 'inventory to reserve the order')
  return placed.id
}

test('events leave as they happen through the embedded listener, and the stream ends after the last', async () => {
  const { admin, alice } = await people()
  const id = await unpaidOrder(admin, alice)
  const { res } = await follow(alice, id)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/event-stream')
  expect(res.headers.get('x-accel-buffering')).toBe('no')
  const s = sseReader(res)

  // Read while the response is still open: nothing has ended the stream yet.
  expect([await s.event(), await s.event()].map((e) => [e?.version, e?.view.status])).toEqual([
    [1, 'pending'],
    [2, 'unpaid'],
  ])
  // Only now does the order change; its event arrives on the same open response, which then ends.
  const cancel = await call(`/api/orders/${id}/cancel`, alice, { method: 'POST', body: {} })
  expect(cancel.status).toBe(200)
  expect((await s.rest()).map((e) => [e.version, e.view.status])).toEqual([[3, 'cancelled']])
}, 60_000)

test('a client that disconnects frees its place; the marketplace stops with a stream open', async () => {
  const { admin, alice } = await people()
  const id = await unpaidOrder(admin, alice)
  const open = []
  for (let i = 0; i < 5; i++) open.push(await follow(alice, id))
  expect(open.map((o) => o.res.status)).toEqual([200, 200, 200, 200, 200])
  expect((await follow(alice, id)).res.status).toBe(429)

  // Closing the connection is all a client does when it leaves.
  open[0]?.abort.abort()
  const sixth = await waitFor(async () => {
    const next = await follow(alice, id)
    return next.res.status === 200 ? next : null
  }, 'the closed stream to free its place')

  // Stopping does not wait for the open streams: they end, and the stop completes.
  const s = sseReader(sixth.res)
  expect((await s.event())?.version).toBe(1)
  const stopping = mart?.stop()
  mart = null
  await stopping
  expect((await s.rest()).map((e) => e.version)).toEqual([2])
}, 60_000)

test('the listener gives a stream longer than its idle timeout, which would cut it between heartbeats', async () => {
  const { admin, alice } = await people()
  const id = await unpaidOrder(admin, alice)
  const timeouts: number[] = []
  const listener = {
    requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 1 }),
    timeout: (_request: Request, seconds: number) => void timeouts.push(seconds),
  }
  const ask = (path: string) =>
    mart?.fetch(
      new Request(`${mart.url}${path}`, { headers: { authorization: `Bearer ${alice}` } }),
      listener as unknown as Parameters<Embedded['fetch']>[1],
    )
  expect((await ask(`/api/orders/${id}`))?.status).toBe(200)
  expect(timeouts).toEqual([])
  const stream = await ask(`/api/orders/${id}/stream`)
  expect(stream?.status).toBe(200)
  await stream?.body?.cancel()
  expect(timeouts).toEqual([STREAM_IDLE_SECONDS])
}, 60_000)
