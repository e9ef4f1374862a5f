// The customer's journey, black box: the six services as processes on real Kafka, behind the real
// Caddy, mailing a real SMTP server and paying through stripe-mock; the test is a client of the
// gateway and nothing else (it reads the mail that arrived, as the customer would). Register, log in,
// browse and search, order, pay by card (Stripe's signed webhook) or cash on delivery, cancel, run
// out of stock, let an order expire, and an admin cancelling a paid order.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { describeCaddy, describeKafka, describeStripeMock, waitFor } from '@mart/shared/testing'
import { checkoutSession, stripeEvent } from '../../payment/test/support.ts'
import { ADMIN, type Answer, type CallOptions, type System, startSystem, WEBHOOK_SECRET } from './system.ts'

interface Person {
  id: string
  email: string
  token: string
}

const password = 'password-123'

describeKafka('the customer’s journey through the gateway', (brokers) => {
  describeStripeMock('paying through stripe-mock', (stripeMockUrl) => {
    describeCaddy('behind Caddy', () => {
      let sys: System
      let admin: string

      beforeAll(async () => {
        sys = await startSystem({ brokers, stripeMockUrl })
        admin = await login(ADMIN.username, ADMIN.password)
      }, 120_000)
      afterAll(() => sys?.shutdown(), 60_000)

      /** A call through the gateway that must answer `status`: its answer. */
      const expectCall = async (status: number, method: string, path: string, c: CallOptions = {}) => {
        const r = await sys.call(method, path, c)
        if (r.status !== status) throw new Error(`${method} ${path}: ${r.status}, not ${status}: ${r.text}`)
        return r
      }

      async function login(username: string, pass: string) {
        const r = await expectCall(200, 'POST', '/api/auth/login', { body: { username, password: pass } })
        return r.body.accessToken as string
      }

      async function register(username: string): Promise<Person> {
        const email = `${username}@mart.test`
        const r = await expectCall(201, 'POST', '/api/auth/register', { body: { username, email, password } })
        return { id: r.body.id, email, token: await login(username, password) }
      }

      /** An admin's product with `stock` units: its id, once the catalogue shows it. */
      async function product(name: string, stock: number, amount = 2500) {
        const body = {
          name,
          description: `${name}, made to last`,
          price: { amount, currency: 'EUR' },
          initialStock: stock,
        }
        const r = await expectCall(201, 'POST', '/api/products', { body, token: admin })
        return r.body.id as string
      }

      /** Retries `attempt` while it answers one of `waiting` (what a client sees while the saga is under way). */
      const until = (what: string, waiting: number[], attempt: () => Promise<Answer>) =>
        waitFor(
          async () => {
            const r = await attempt()
            if (waiting.includes(r.status)) return null
            return r
          },
          what,
          30_000,
        )

      /**
       * POST /api/orders: the order, pending (202). A product created a moment ago reaches the order
       * service through Kafka: until it has, the line is refused (422) and the client tries again.
       */
      async function place(who: Person, lines: [string, number][]) {
        const body = { lines: lines.map(([productId, quantity]) => ({ productId, quantity })) }
        const r = await until('the order to be taken', [422], () =>
          sys.call('POST', '/api/orders', { body, token: who.token }),
        )
        expect(r.status).toBe(202)
        expect(r.body).toMatchObject({ status: 'pending', userId: who.id })
        return r.body as { id: string; number: string }
      }

      const orderOf = async (id: string, token: string) =>
        (await expectCall(200, 'GET', `/api/orders/${id}`, { token })).body

      /** Polls the order until it is `status`; fails at once if it ends otherwise. */
      const statusOf = (id: string, status: string, token: string) =>
        waitFor(
          async () => {
            const o = await orderOf(id, token)
            if (o.status !== status && ['delivered', 'rejected', 'cancelled', 'expired'].includes(o.status))
              throw new Error(`order ${id} ended ${o.status}, not ${status}`)
            return o.status === status ? o : null
          },
          `order ${id} to be ${status}`,
          30_000,
        )

      /**
       * POST /api/payments: retried while the payment service has not heard the order is payable:
       * 409, or 404 while it has not heard of the order at all (the order service may say `unpaid`
       * before payment has read order.placed from Kafka).
       */
      const pay = async (who: Person, orderId: string, method: 'stripe' | 'cod') =>
        (
          await until(`the order to be payable by ${method}`, [404, 409], () =>
            sys.call('POST', '/api/payments', { body: { orderId, method }, token: who.token }),
          )
        ).body

      const stockOf = async (productId: string) =>
        (await expectCall(200, 'GET', `/api/inventory/${productId}`, { token: admin })).body as {
          onHand: number
          reserved: number
          available: number
        }

      /** The notices `token`'s person has about `subject` (an order id), oldest first. */
      const noticesOf = async (token: string, subject: string) =>
        (
          (await expectCall(200, 'GET', '/api/notifications?limit=100', { token })).body.items as {
            notice: string
            subject: string | null
          }[]
        )
          .filter((n) => n.subject === subject)
          .map((n) => n.notice)
          .reverse()

      const mailsTo = (address: string, about: string) =>
        sys.smtp.inbox.filter((m) => m.to.includes(address) && m.subject.includes(about))

      /** Stripe tells Mart the Checkout Session of `payment` was paid: signed as Stripe signs it. */
      async function stripePays(payment: {
        id: string
        stripeSessionId: string | null
        amount: { amount: number }
      }) {
        const event = await stripeEvent('checkout.session.completed', checkoutSession(payment), {
          secret: WEBHOOK_SECRET,
        })
        const r = await sys.call('POST', '/api/payments/webhooks/stripe', {
          raw: event.payload,
          headers: { 'stripe-signature': event.signature },
        })
        expect(r.status).toBe(200)
        return event
      }

      test('register, log in, browse and search, order, pay by card: paid, stock committed, the customer and the admins told in-app and by email', async () => {
        const lamp = await product('Brass desk lamp', 10, 4500)
        await product('Oak bookshelf', 3, 12_000)

        // A stranger browses and searches the catalogue.
        const page = await expectCall(200, 'GET', '/api/products')
        expect(page.body.items.map((p: { name: string }) => p.name)).toEqual(
          expect.arrayContaining(['Brass desk lamp', 'Oak bookshelf']),
        )
        const found = await expectCall(200, 'GET', '/api/products?q=brass')
        expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([lamp])
        expect((await expectCall(200, 'GET', `/api/products/${lamp}`)).body).toMatchObject({
          name: 'Brass desk lamp',
          price: { amount: 4500, currency: 'EUR' },
        })

        const alice = await register('alice')
        expect((await expectCall(200, 'GET', '/api/users/me', { token: alice.token })).body).toMatchObject({
          username: 'alice',
          role: 'user',
        })

        const placed = await place(alice, [[lamp, 2]])
        const unpaid = await statusOf(placed.id, 'unpaid', alice.token)
        expect(unpaid.total).toEqual({ amount: 9000, currency: 'EUR' })
        expect(await stockOf(lamp)).toMatchObject({ onHand: 10, reserved: 2, available: 8 })

        const payment = await pay(alice, placed.id, 'stripe')
        expect(payment).toMatchObject({ method: 'stripe', status: 'pending', amount: { amount: 9000 } })
        expect(payment.stripeSessionId).toStartWith('cs_')
        const event = await stripePays(payment)
        // Stripe sends an event again when it is unsure it arrived: it changes nothing.
        const again = await sys.call('POST', '/api/payments/webhooks/stripe', {
          raw: event.payload,
          headers: { 'stripe-signature': event.signature },
        })
        expect(again.body).toEqual({ received: true, duplicate: true })

        expect(await statusOf(placed.id, 'paid', alice.token)).toMatchObject({ payment: 'paid' })
        await waitFor(async () => (await stockOf(lamp)).onHand === 8, 'inventory to commit the stock', 30_000)
        expect(await stockOf(lamp)).toMatchObject({ onHand: 8, reserved: 0, available: 8 })

        const customer = ['order-received', 'order-reserved', 'payment-received']
        const admins = ['admin-new-order', 'admin-order-paid']
        await waitFor(
          async () => (await noticesOf(alice.token, placed.id)).length >= customer.length,
          'the customer’s notices',
          30_000,
        )
        await waitFor(
          async () => (await noticesOf(admin, placed.id)).length >= admins.length,
          'the admin’s notices',
          30_000,
        )
        await waitFor(
          () =>
            mailsTo(alice.email, placed.number).length >= 3 &&
            mailsTo(ADMIN.email, placed.number).length >= 2,
          'the emails',
          30_000,
        )
        await Bun.sleep(500) // nothing more comes
        expect(await noticesOf(alice.token, placed.id)).toEqual(customer)
        expect(await noticesOf(admin, placed.id)).toEqual(admins)
        const mails = [...mailsTo(alice.email, placed.number), ...mailsTo(ADMIN.email, placed.number)]
        expect(mails).toHaveLength(5)
        expect(new Set(mails.map((m) => m.messageId)).size).toBe(5)
        // From SMTP_FROM, to ADMIN_EMAIL: the seed's settings, as a team sets them.
        expect(new Set(mails.map((m) => m.from))).toEqual(new Set(['shop@mart.test']))
        expect(mailsTo(alice.email, 'Welcome')).toHaveLength(1)
        expect(mailsTo(alice.email, placed.number)[0]?.text).toContain('€90.00')
      }, 120_000)

      test('cash on delivery: confirmed, shipped, delivered, then the cash collected', async () => {
        const kettle = await product('Copper kettle', 5, 3000)
        const bob = await register('bob')
        const placed = await place(bob, [[kettle, 1]])
        await statusOf(placed.id, 'unpaid', bob.token)
        const payment = await pay(bob, placed.id, 'cod')
        expect(payment).toMatchObject({ method: 'cod', status: 'cod_pending' })
        expect(await statusOf(placed.id, 'confirmed', bob.token)).toMatchObject({ payment: 'pending' })

        // Only an admin ships and delivers.
        expect((await sys.call('POST', `/api/orders/${placed.id}/ship`, { token: bob.token })).status).toBe(
          403,
        )
        await expectCall(200, 'POST', `/api/orders/${placed.id}/ship`, { token: admin })
        await waitFor(
          async () => (await stockOf(kettle)).onHand === 4,
          'the goods to leave the stock',
          30_000,
        )
        expect(await stockOf(kettle)).toMatchObject({ onHand: 4, reserved: 0 })
        const delivered = await expectCall(200, 'POST', `/api/orders/${placed.id}/deliver`, { token: admin })
        expect(delivered.body).toMatchObject({ status: 'delivered', payment: 'pending' })

        const collect = `/api/payments/${payment.id}/collect`
        expect((await sys.call('POST', collect, { token: bob.token })).status).toBe(403)
        expect((await expectCall(200, 'POST', collect, { token: admin })).body).toMatchObject({
          status: 'succeeded',
        })
        expect((await sys.call('POST', collect, { token: admin })).status).toBe(409)
        await waitFor(
          async () => (await orderOf(placed.id, bob.token)).payment === 'paid',
          'the order to record the cash',
          30_000,
        )
        expect(await orderOf(placed.id, bob.token)).toMatchObject({ status: 'delivered', payment: 'paid' })
        await waitFor(
          async () => (await noticesOf(bob.token, placed.id)).includes('order-delivered'),
          'bob to be told it is delivered',
          30_000,
        )
        expect(await noticesOf(bob.token, placed.id)).toEqual(
          expect.arrayContaining(['order-received', 'cod-confirmed', 'order-shipped', 'order-delivered']),
        )
      }, 120_000)

      test('the customer cancels an unpaid order: the stock is free again', async () => {
        const mug = await product('Stoneware mug', 6, 1200)
        const carol = await register('carol')
        const placed = await place(carol, [[mug, 4]])
        await statusOf(placed.id, 'unpaid', carol.token)
        expect(await stockOf(mug)).toMatchObject({ onHand: 6, reserved: 4, available: 2 })

        // Nobody else cancels it.
        const dave = await register('dave')
        expect(
          (await sys.call('POST', `/api/orders/${placed.id}/cancel`, { body: {}, token: dave.token })).status,
        ).toBe(404)
        const cancelled = await expectCall(200, 'POST', `/api/orders/${placed.id}/cancel`, {
          body: {},
          token: carol.token,
        })
        expect(cancelled.body).toMatchObject({
          status: 'cancelled',
          outcome: { kind: 'cancelled', by: 'user', refundDue: false },
        })
        await waitFor(async () => (await stockOf(mug)).reserved === 0, 'the stock to be released', 30_000)
        expect(await stockOf(mug)).toMatchObject({ onHand: 6, reserved: 0, available: 6 })
        // A cancelled order cannot be paid.
        const late = await sys.call('POST', '/api/payments', {
          body: { orderId: placed.id, method: 'cod' },
          token: carol.token,
        })
        expect(late.status).toBe(409)
        expect(late.headers.get('content-type')).toBe('application/problem+json')
      }, 120_000)

      test('more than the stock: the order is rejected, nothing is held, and the customer is told', async () => {
        const vase = await product('Glass vase', 2, 1800)
        const erin = await register('erin')
        const placed = await place(erin, [[vase, 3]])
        const rejected = await statusOf(placed.id, 'rejected', erin.token)
        expect(rejected.outcome).toMatchObject({ kind: 'rejected' })
        expect(await stockOf(vase)).toMatchObject({ onHand: 2, reserved: 0, available: 2 })
        await waitFor(
          async () => (await noticesOf(erin.token, placed.id)).includes('order-rejected'),
          'erin to be told',
          30_000,
        )
        await waitFor(() => mailsTo(erin.email, placed.number).length >= 2, 'her emails', 30_000)
      }, 120_000)

      test('an admin cancels an order paid by card: Stripe refunds it, the order says refunded, the goods go back', async () => {
        const chair = await product('Walnut chair', 4, 20_000)
        const frank = await register('frank')
        const placed = await place(frank, [[chair, 1]])
        await statusOf(placed.id, 'unpaid', frank.token)
        const payment = await pay(frank, placed.id, 'stripe')
        await stripePays(payment)
        await statusOf(placed.id, 'paid', frank.token)
        await waitFor(async () => (await stockOf(chair)).onHand === 3, 'the stock to be committed', 30_000)

        // A customer cannot cancel a paid order; an admin can.
        expect(
          (await sys.call('POST', `/api/orders/${placed.id}/cancel`, { body: {}, token: frank.token }))
            .status,
        ).toBe(409)
        const cancelled = await expectCall(200, 'POST', `/api/orders/${placed.id}/cancel`, {
          body: { reason: 'damaged in the warehouse' },
          token: admin,
        })
        expect(cancelled.body).toMatchObject({
          status: 'cancelled',
          outcome: { by: 'admin', refundDue: true },
        })

        const refunded = await waitFor(
          async () => {
            const p = (await expectCall(200, 'GET', `/api/payments/${payment.id}`, { token: frank.token }))
              .body
            return p.status === 'refunded' ? p : null
          },
          'the refund at Stripe',
          30_000,
        )
        expect(refunded.refunded).toEqual({ amount: 20_000, currency: 'EUR' })
        await waitFor(
          async () => (await orderOf(placed.id, frank.token)).payment === 'refunded',
          'the order to say refunded',
          30_000,
        )
        await waitFor(async () => (await stockOf(chair)).onHand === 4, 'the goods back in stock', 30_000)
        expect(await stockOf(chair)).toMatchObject({ onHand: 4, reserved: 0, available: 4 })
        await waitFor(
          async () => (await noticesOf(frank.token, placed.id)).includes('payment-refunded'),
          'frank to be told of the refund',
          30_000,
        )
      }, 120_000)

      test('an order left unpaid past its reservation expires, and its stock is free again', async () => {
        // The order service as an operator would run it with a 2-second reservation.
        await sys.restart('order', { ORDER_RESERVATION_TTL_SECONDS: '2' })
        try {
          const lamp = await product('Paper lantern', 5, 900)
          const grace = await register('grace')
          const placed = await place(grace, [[lamp, 3]])
          await statusOf(placed.id, 'expired', grace.token)
          await waitFor(async () => (await stockOf(lamp)).reserved === 0, 'the stock to be released', 30_000)
          expect(await stockOf(lamp)).toMatchObject({ onHand: 5, reserved: 0, available: 5 })
          await waitFor(
            async () => (await noticesOf(grace.token, placed.id)).includes('order-expired'),
            'grace to be told',
            30_000,
          )
          const late = await sys.call('POST', '/api/payments', {
            body: { orderId: placed.id, method: 'stripe' },
            token: grace.token,
          })
          expect(late.status).toBe(409)
        } finally {
          await sys.restart('order')
        }
      }, 120_000)

      test('afterwards: nothing in a dead-letter topic, no service logged a stack trace or a secret', async () => {
        console.log(
          sys
            .log('payment')
            .split('\n')
            .filter((l) => l.includes('sk_test'))
            .join('\n'),
        )
        expect(sys.deadLetters()).toEqual([])
        for (const name of ['user', 'product', 'inventory', 'order', 'payment', 'notification'] as const) {
          const log = sys.log(name)
          expect({ name, stack: /\n\s+at .+:\d+:\d+/.test(log) }).toEqual({ name, stack: false })
          for (const secret of [ADMIN.password, password, WEBHOOK_SECRET, 'sk_test_martsystem', '$argon2'])
            expect({ name, leaks: log.includes(secret) ? secret : null }).toEqual({ name, leaks: null })
        }
      })
    })
  })
})
