// An order's event stream over a real socket, through the embedded listener (`bun run dev`): the
// events leave as they happen, not when the response ends; a client that goes away frees its place;
// and the marketplace stops with streams open.
import { expect, test } from 'bun:test'
import { type Embedded, STREAM_IDLE_SECONDS } from '@mart/shared'
import { devTokenSigner, waitFor } from '@mart/shared/testing'
import { definition as inventory } from '../../inventory/src/index.ts'
import { definition as order } from '../../order/src/index.ts'
import { sseReader } from '../../order/test/sse.ts'
import { definition as product } from '../../product/src/index.ts'
import { expectLiveOrderStream, listenerPerTest } from './listener.ts'

const mart = listenerPerTest([product, inventory, order])
const { call } = mart

/** Signed-in people, with the keys the embedded services verify with. */
async function people() {
  const sign = await devTokenSigner(mart.dir)
  const admin = await sign('admin')
  const aliceId = crypto.randomUUID()
  return { admin, alice: await sign('user', { sub: aliceId }) }
}

/** Opens the order's stream over the socket. */
const follow = (token: string, orderId: string) => mart.follow(`/api/orders/${orderId}/stream`, token)

test('events leave as they happen through the embedded listener, and the stream ends after the last', async () => {
  const { admin, alice } = await people()
  const id = await mart.unpaidLampOrder(admin, alice)
  const { res } = await follow(alice, id)
  expect(res.headers.get('x-accel-buffering')).toBe('no')
  await expectLiveOrderStream(res, () =>
    call(`/api/orders/${id}/cancel`, alice, { method: 'POST', body: {} }),
  )
}, 60_000)

test('a client that disconnects frees its place; the marketplace stops with a stream open', async () => {
  const { admin, alice } = await people()
  const id = await mart.unpaidLampOrder(admin, alice)
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
  await mart.stop()
  expect((await s.rest()).map((e) => e.version)).toEqual([2])
}, 60_000)

test('the listener gives a stream longer than its idle timeout, which would cut it between heartbeats', async () => {
  const { admin, alice } = await people()
  const id = await mart.unpaidLampOrder(admin, alice)
  const timeouts: number[] = []
  const listener = {
    requestIP: () => ({ address: '127.0.0.1', family: 'IPv4', port: 1 }),
    timeout: (_request: Request, seconds: number) => void timeouts.push(seconds),
  }
  const ask = (path: string) =>
    mart.mart.fetch(
      new Request(`${mart.mart.url}${path}`, { headers: { authorization: `Bearer ${alice}` } }),
      listener as unknown as Parameters<Embedded['fetch']>[1],
    )
  expect((await ask(`/api/orders/${id}`))?.status).toBe(200)
  expect(timeouts).toEqual([])
  const stream = await ask(`/api/orders/${id}/stream`)
  expect(stream?.status).toBe(200)
  await stream?.body?.cancel()
  expect(timeouts).toEqual([STREAM_IDLE_SECONDS])
}, 60_000)
