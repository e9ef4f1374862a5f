// The order scenarios' client: place an order, follow it through its event stream to `unpaid`, and
// for a checkout pay it (cash on delivery, or by card: stripe-mock's Checkout Session, then the
// webhook Stripe would send, signed) and follow it on to `confirmed` or `paid`. Every order goes in
// the ledger with the state the client last drove it to, for the correctness check.
import { sseReader } from '@mart/shared/sse-reader'
import { checkoutSession, stripeEvent } from '../../payment/test/support.ts'
import type { Call } from './client.ts'
import type { Recorder } from './recorder.ts'
import type { Customer, Product } from './setup.ts'

export type Expected = 'unpaid' | 'confirmed' | 'paid'
export type Pay = 'cod' | 'stripe'

/** One order as the client knows it. */
export interface Placed {
  index: number
  customerId: string
  lines: { productId: string; quantity: number }[]
  /** The state it must end in: where the client last drove it. */
  expect: Expected
  /**
   * Where a request whose answer never came (a timeout) may have moved it: its outcome is unknown
   * to the client, so the check takes this state as well as `expect`.
   */
  maybe?: Expected
  /** Its id, once POST /api/orders answered 202. */
  id?: string
  /** Why the client stopped driving it. */
  failed?: string
}

export const PLACED_TO_UNPAID = 'placed -> unpaid'
export const POST_ANSWERED = 'POST /api/orders answered'
export const PLACED_TO_SETTLED = 'placed -> paid or confirmed'
const settledMetric: Record<Pay, string> = {
  cod: 'placed -> confirmed (COD)',
  stripe: 'placed -> paid (card, webhook)',
}
const ENDED = ['rejected', 'cancelled', 'expired', 'delivered']
const TIMEOUT_MS = 30_000

const address = {
  name: 'Ada Lovelace',
  line1: '12 Example Street',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
}

export interface OrderContext {
  base: string
  call: Call
  customers: Customer[]
  products: Product[]
  ledger: Placed[]
  webhookSecret?: string
}

/** Two products, one twice over: a typical basket. */
export function basket(i: number, products: Product[]) {
  const a = products[i % products.length] as Product
  const b = products[(i + 1) % products.length] as Product
  return [
    { productId: a.id, quantity: 1 },
    { productId: b.id, quantity: 2 },
  ]
}

/**
 * How often an order is read when its stream was refused: every POLL_MS at first, then every tenth
 * of the time it has waited, so a late order's figure is at most about 10% late and the polls do
 * not multiply with the backlog (at a fixed 10 ms, 300 orders behind were 30,000 reads a second:
 * a one-second stall of the server became a collapse that lasted the rest of the run).
 */
export const POLL_MS = 10
export const pollDelay = (waitedMs: number) => Math.max(POLL_MS, waitedMs / 10)

/** The order's states as the client sees them: its event stream, or reading it again and again. */
type Follower = { next(): Promise<string | null> }

function streamed(events: ReturnType<typeof sseReader>): Follower {
  return { next: async () => ((await events.event())?.view.status as string | undefined) ?? null }
}

function polled(ctx: OrderContext, id: string, token: string, signal: AbortSignal, at: number): Follower {
  let first = true
  return {
    async next() {
      if (!first) await Bun.sleep(pollDelay(performance.now() - at))
      first = false
      const r = await ctx.call('GET', `/api/orders/${id}`, { token, signal })
      if (r.status !== 200) throw new Error(`GET /api/orders/:id ${r.status}`)
      return r.body.status as string
    },
  }
}

/** Follows the order until it is `status`; throws if it ends otherwise or the stream does. */
async function reach(follower: Follower, status: string): Promise<void> {
  for (;;) {
    const now = await follower.next()
    if (now === null) throw new Error(`stream ended before ${status}`)
    if (now === status) return
    if (ENDED.includes(now)) throw new Error(`order ${now}, not ${status}`)
  }
}

/** Places order `i` (scheduled at `at`), follows it, and pays it when `pay` says how. */
export async function placeAndFollow(ctx: OrderContext, rec: Recorder, i: number, at: number, pay?: Pay) {
  const customer = ctx.customers[i % ctx.customers.length] as Customer
  const lines = basket(i, ctx.products)
  const entry: Placed = { index: ctx.ledger.length, customerId: customer.id, lines, expect: 'unpaid' }
  ctx.ledger.push(entry)
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS)
  let step = 'POST /api/orders'
  try {
    const r = await ctx.call('POST', '/api/orders', {
      token: customer.token,
      body: { lines, shippingAddress: address },
      signal: abort.signal,
    })
    rec.since(POST_ANSWERED, at)
    if (r.status !== 202) {
      entry.failed = `POST /api/orders ${r.status}`
      rec.error(step, r.status)
      return
    }
    const id = r.body.id as string
    entry.id = id
    step = 'GET /api/orders/:id/stream'
    const res = await fetch(`${ctx.base}/api/orders/${id}/stream`, {
      headers: { authorization: `Bearer ${customer.token}`, accept: 'text/event-stream' },
      signal: abort.signal,
    })
    let events: Follower
    if (res.status === 429) {
      // Past the stream limits (5 a customer, 1,000 a process): the client reads the order again
      // and again instead (pollDelay), as the stream's Retry-After invites; counted, since it
      // costs and blurs.
      await res.body?.cancel()
      rec.note(`${step} 429: followed by GET every ${POLL_MS} ms, then every tenth of the wait`)
      events = polled(ctx, id, customer.token, abort.signal, at)
    } else if (res.status !== 200) {
      await res.body?.cancel()
      entry.failed = `${step} ${res.status}`
      rec.error(step, res.status)
      return
    } else events = streamed(sseReader(res))
    step = 'follow to unpaid'
    await reach(events, 'unpaid')
    rec.since(PLACED_TO_UNPAID, at)
    if (!pay) return

    step = `POST /api/payments (${pay})`
    // Cash on delivery confirms the order with this request; a card pays it with the webhook.
    if (pay === 'cod') entry.maybe = 'confirmed'
    const payStart = performance.now()
    let p = await ctx.call('POST', '/api/payments', {
      token: customer.token,
      body: { orderId: id, method: pay },
      signal: abort.signal,
    })
    // 404, then 409, until the payment service has heard the order awaits payment (one more bus
    // hop after the order service's `unpaid`): a client tries again, as the journey test does.
    while (p.status === 409 || p.status === 404) {
      await Bun.sleep(5)
      p = await ctx.call('POST', '/api/payments', {
        token: customer.token,
        body: { orderId: id, method: pay },
        signal: abort.signal,
      })
    }
    rec.since('POST /api/payments answered', payStart)
    if (p.status !== 201 && p.status !== 200) {
      entry.maybe = undefined // refused: nothing moved
      entry.failed = `${step} ${p.status}`
      rec.error(step, p.status)
      return
    }
    if (pay === 'stripe') {
      step = 'POST /api/payments/webhooks/stripe'
      entry.maybe = 'paid'
      const event = await stripeEvent('checkout.session.completed', checkoutSession(p.body), {
        secret: ctx.webhookSecret,
      })
      const w = await ctx.call('POST', '/api/payments/webhooks/stripe', {
        raw: event.payload,
        headers: { 'stripe-signature': event.signature },
        signal: abort.signal,
      })
      if (w.status !== 200) {
        entry.maybe = undefined
        entry.failed = `${step} ${w.status}`
        rec.error(step, w.status)
        return
      }
    }
    entry.expect = pay === 'cod' ? 'confirmed' : 'paid'
    step = `follow to ${entry.expect}`
    await reach(events, entry.expect)
    rec.since(settledMetric[pay], at)
    rec.since(PLACED_TO_SETTLED, at)
  } catch (err) {
    const why = abort.signal.aborted ? 'timeout' : err instanceof Error ? err.message : String(err)
    entry.failed = `${step}: ${why}`
    rec.error(step, abort.signal.aborted ? 'timeout' : 'failed')
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

/**
 * One order before the clock starts, retried while the order service has not yet heard of the
 * products (422): the catalogue reaches it over the bus. In the ledger like any other.
 */
export async function firstOrder(ctx: OrderContext): Promise<void> {
  const customer = ctx.customers[0] as Customer
  const lines = ctx.products.map((p) => ({ productId: p.id, quantity: 1 }))
  const entry: Placed = { index: ctx.ledger.length, customerId: customer.id, lines, expect: 'unpaid' }
  ctx.ledger.push(entry)
  const deadline = performance.now() + 60_000
  for (;;) {
    const r = await ctx.call('POST', '/api/orders', {
      token: customer.token,
      body: { lines, shippingAddress: address },
    })
    if (r.status === 202) {
      entry.id = r.body.id
      return
    }
    if (r.status !== 422 || performance.now() > deadline) {
      entry.failed = `POST /api/orders ${r.status}`
      throw new Error(`the first order was refused: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`)
    }
    await Bun.sleep(100)
  }
}
