// What people are told, end to end: the real user, product, inventory, order, payment and
// notification services on one bus, payment against stripe-mock, email to a real SMTP server. One
// order placed and paid by card makes exactly the expected in-app notices and emails for the
// customer and the admin, once each, on the in-process bus delivering every message twice and on
// real Kafka.
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { type Bus, MemoryBus } from '@mart/shared'
import { describeKafka, describeStripeMock, kafkaTestBus, waitFor } from '@mart/shared/testing'
import { startSmtp } from '../../notification/test/smtp.ts'
import { checkoutSession, stripeEnv, stripeEvent } from '../../payment/test/support.ts'
import { type Marketplace, marketplace, type Person, ROOT } from './support.ts'

function suite(makeBus: () => Bus, stripeUrl: string) {
  let m: Marketplace
  let smtp: Awaited<ReturnType<typeof startSmtp>>
  let alice: Person

  beforeEach(async () => {
    smtp = await startSmtp()
    // Notification first: the in-process bus without a journal gives a group only what is published
    // after it subscribed, and the user service announces the seeded admin as it starts.
    m = await marketplace(makeBus(), {
      env: { ...stripeEnv(stripeUrl), ...smtp.env() },
      services: ['notification', 'user', 'product', 'inventory', 'order', 'payment'],
    })
    alice = await m.customer('alice')
  }, 60_000)
  afterEach(async () => {
    await m.stop()
    await smtp.stop()
  }, 60_000)

  /** The notices a person has, oldest first, as GET /api/notifications shows them. */
  const noticesOf = async (token: string) =>
    (
      (await m.call('notification', 'GET', '/api/notifications?limit=100', undefined, token)).body.items as {
        notice: string
        title: string
      }[]
    )
      .map((n) => n.notice)
      .reverse()

  test('an order placed and paid by card: the customer and the admin are told each step, once, in-app and by email', async () => {
    const lamp = await m.createLamp(100, { amount: 2999, currency: 'EUR' })
    await m.orderable(lamp)
    const order = await m.placeOrder(alice, [[lamp, 2]])
    await m.waitForStatus(order.id, 'unpaid', alice.token)
    await m.payable(order.id)
    const payment = await m.payOrder(alice, order.id, 'stripe')
    const paid = await m.stripeWebhook(
      await stripeEvent('checkout.session.completed', checkoutSession(payment)),
    )
    expect(paid.status).toBe(200)
    await m.waitForStatus(order.id, 'paid', alice.token)

    const customer = ['welcome', 'order-received', 'order-reserved', 'payment-received']
    const admin = ['welcome', 'admin-new-order', 'admin-order-paid']
    await waitFor(
      async () => (await noticesOf(alice.token)).length === customer.length,
      'the customer’s notices',
      30_000,
    )
    await waitFor(
      async () => (await noticesOf(m.root)).length === admin.length,
      'the admin’s notices',
      30_000,
    )
    await waitFor(() => smtp.inbox.length === customer.length + admin.length, 'every email', 30_000)
    // Nothing more comes: every event was handled (twice on the in-process bus) and sent once.
    await Bun.sleep(500)
    expect(await noticesOf(alice.token)).toEqual(customer)
    expect(await noticesOf(m.root)).toEqual(admin)

    const mailTo = (address: string) =>
      smtp.inbox.filter((mail) => mail.to.includes(address)).map((mail) => mail.subject)
    expect(mailTo('alice@mart.test')).toEqual([
      'Welcome to Mart',
      `Order ${order.number} received`,
      expect.stringContaining(order.number),
      expect.stringContaining(order.number),
    ])
    expect(mailTo(ROOT.email)).toHaveLength(admin.length)
    expect(new Set(smtp.inbox.map((mail) => mail.messageId)).size).toBe(smtp.inbox.length)
    const received = smtp.inbox.find((mail) => mail.subject === `Order ${order.number} received`)
    expect(received?.text).toContain('€59.98')
    expect(received?.html).toContain('€59.98')
  }, 60_000)
}

describeStripeMock('what people are told', (stripeUrl) => {
  suite(() => new MemoryBus({ duplicateDelivery: true }), stripeUrl)
  describeKafka('over real Kafka', (brokers) => {
    suite(() => kafkaTestBus(brokers, 'e2e-notification'), stripeUrl)
  })
})
