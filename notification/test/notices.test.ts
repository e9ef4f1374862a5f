// Each notice: what triggers it, who gets it (the customer; every active admin and
// ADMIN_NOTIFY_EMAILS; never a disabled or deleted account), and what it says, in-app and by email.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import type { EventData, EventType } from '@mart/shared'
import { type SendStep, sampleCancellation, sampleOrder, sampleProduct, waitFor } from '@mart/shared/testing'
import { notices } from '../src/notices/index.ts'
import { startSmtp } from './smtp.ts'
import { type NotificationHarness, startNotification } from './support.ts'

const OPS = 'ops@mart.test'
const PUBLIC_URL = 'https://shop.mart.test'
const env = { ADMIN_NOTIFY_EMAILS: `${OPS}`, PUBLIC_URL }

type Person = Awaited<ReturnType<NotificationHarness['person']>>

/** An order of `userId`: two lines, 10.00 EUR a unit, 30.00 EUR in all. */
const orderOf = (userId: string, orderId = crypto.randomUUID()): EventData<'order.placed'> => ({
  ...sampleOrder(orderId, [
    ['p-1', 1],
    ['p-2', 2],
  ]),
  userId,
})
const refOf = (o: EventData<'order.placed'>) => ({ orderId: o.orderId, userId: o.userId, number: o.number })
const paymentOf = (o: EventData<'order.placed'>) => ({
  paymentId: `pay-${o.orderId}`,
  orderId: o.orderId,
  userId: o.userId,
})

/** Sends the order's order.placed, then `step` made from it; answers the last event. */
async function after(h: NotificationHarness, o: EventData<'order.placed'>, step: SendStep) {
  const sent = await h.apply(['order.placed', o, o.orderId], step)
  return sent[1] as { id: string; type: EventType }
}

describe('who gets what', () => {
  let h: NotificationHarness
  let customer: Person
  let bystander: Person
  let admins: Person[]

  beforeAll(async () => {
    h = await startNotification({ env })
    customer = await h.person('user', 'carol')
    bystander = await h.person('user', 'dave')
    admins = [await h.person('admin', 'ann'), await h.person('admin', 'abe')]
    const disabled = await h.person('admin', 'dan')
    const deleted = await h.person('admin', 'del')
    const snapshot = (p: Person) => ({ id: p.id, username: p.username, email: p.email, role: p.role })
    await h.apply(
      ['user.updated', { ...snapshot(disabled), disabled: true }, disabled.id],
      ['user.deleted', { ...snapshot(deleted), disabled: false }, deleted.id],
    )
  })
  afterAll(() => h.stop())

  // For each trigger: the events (an order.placed first, so payment events find the order's number),
  // the customer's notices, the admins' notices, and words each of their emails contains.
  const cases: {
    trigger: EventType
    step: (o: EventData<'order.placed'>) => SendStep
    user: string[]
    admins: string[]
    says: string[]
  }[] = [
    {
      trigger: 'order.placed',
      step: (o) => ['order.placed', o, o.orderId],
      user: ['order-received'],
      admins: ['admin-new-order'],
      says: ['€30.00'],
    },
    {
      trigger: 'order.awaiting_payment',
      step: (o) => ['order.awaiting_payment', { ...o, expiresAt: '2030-01-02T15:04:00.000Z' }, o.orderId],
      user: ['order-reserved'],
      admins: [],
      says: ['€30.00', '2 Jan 2030, 15:04 UTC'],
    },
    {
      trigger: 'order.rejected',
      step: (o) => [
        'order.rejected',
        {
          ...refOf(o),
          reasons: [{ productId: 'p-2', reason: 'insufficient_stock', requested: 2, available: 1 }],
        },
        o.orderId,
      ],
      user: ['order-rejected'],
      admins: [],
      says: ['could not be reserved', 'Product p-2'],
    },
    {
      trigger: 'order.cancelled',
      step: (o) => ['order.cancelled', { ...sampleCancellation(o.orderId), ...refOf(o) }, o.orderId],
      user: ['order-cancelled'],
      admins: ['admin-order-cancelled'],
      says: ['cancelled'],
    },
    {
      trigger: 'order.expired',
      step: (o) => ['order.expired', refOf(o), o.orderId],
      user: ['order-expired'],
      admins: [],
      says: ['expired'],
    },
    {
      trigger: 'payment.succeeded',
      step: (o) => [
        'payment.succeeded',
        { ...paymentOf(o), method: 'stripe', amount: { amount: 3000, currency: 'EUR' } },
        o.orderId,
      ],
      user: ['payment-received'],
      admins: ['admin-order-paid'],
      says: ['€30.00'],
    },
    {
      trigger: 'payment.failed',
      step: (o) => [
        'payment.failed',
        { ...paymentOf(o), method: 'stripe', reason: 'card declined' },
        o.orderId,
      ],
      user: ['payment-failed'],
      admins: [],
      says: ['failed', 'card declined'],
    },
    {
      trigger: 'payment.refunded',
      step: (o) => [
        'payment.refunded',
        { ...paymentOf(o), amount: { amount: 3000, currency: 'EUR' }, reason: 'requested' },
        o.orderId,
      ],
      user: ['payment-refunded'],
      admins: ['admin-payment-refunded'],
      says: ['€30.00'],
    },
    {
      trigger: 'payment.needs_review',
      step: (o) => [
        'payment.needs_review',
        {
          ...paymentOf(o),
          reason: 'amount differs',
          expected: { amount: 3000, currency: 'EUR' },
          received: { amount: 2900, currency: 'EUR' },
        },
        o.orderId,
      ],
      user: [],
      admins: ['admin-payment-review'],
      says: ['needs review (amount mismatch)', '€30.00', '€29.00'],
    },
    {
      trigger: 'payment.cod_selected',
      step: (o) => [
        'payment.cod_selected',
        { ...paymentOf(o), amount: { amount: 3000, currency: 'EUR' } },
        o.orderId,
      ],
      user: ['cod-confirmed'],
      admins: ['admin-cod-order'],
      says: ['€30.00'],
    },
    {
      trigger: 'order.shipped',
      step: (o) => ['order.shipped', refOf(o), o.orderId],
      user: ['order-shipped'],
      admins: [],
      says: ['shipped'],
    },
    {
      trigger: 'order.delivered',
      step: (o) => ['order.delivered', refOf(o), o.orderId],
      user: ['order-delivered'],
      admins: [],
      says: ['delivered'],
    },
    // The order's own record of a payment and of cash on delivery: the payment events already told.
    {
      trigger: 'order.paid',
      step: (o) => ['order.paid', { ...refOf(o), paymentId: `pay-${o.orderId}` }, o.orderId],
      user: [],
      admins: [],
      says: [],
    },
    {
      trigger: 'order.confirmed',
      step: (o) => ['order.confirmed', refOf(o), o.orderId],
      user: [],
      admins: [],
      says: [],
    },
  ]

  test('every notice is in the table', () => {
    const covered = new Set(['welcome', ...cases.flatMap((c) => [...c.user, ...c.admins]), 'admin-low-stock'])
    expect(notices.map((n) => n.name).filter((n) => !covered.has(n))).toEqual([])
    // Names are part of every delivery's identity: no two alike.
    expect(new Set(notices.map((n) => n.name)).size).toBe(notices.length)
  })

  for (const c of cases) {
    test(`${c.trigger}: the customer gets ${c.user.join(', ') || 'nothing'}, the admins ${c.admins.join(', ') || 'nothing'}`, async () => {
      const o = orderOf(customer.id)
      const e = c.trigger === 'order.placed' ? (await h.apply(c.step(o)))[0] : await after(h, o, c.step(o))
      const got = h.producedBy((e as { id: string }).id)

      const inApp = got.inApp.map((n) => `${n.userId} ${n.notice}`).sort()
      expect(inApp).toEqual(
        [
          ...c.user.map((n) => `${customer.id} ${n}`),
          ...admins.flatMap((a) => c.admins.map((n) => `${a.id} ${n}`)),
        ].sort(),
      )
      const emails = got.emails.map((m) => `${m.address} ${m.notice}`).sort()
      expect(emails).toEqual(
        [
          ...c.user.map((n) => `${customer.email} ${n}`),
          ...[...admins.map((a) => a.email), OPS].flatMap((to) => c.admins.map((n) => `${to} ${n}`)),
        ].sort(),
      )
      expect(got.inApp.some((n) => n.userId === bystander.id)).toBe(false)

      for (const m of got.emails) {
        // Emails name an order by its number, in the subject and both parts.
        expect(m.subject).toContain(o.number)
        expect(m.text).toContain(o.number)
        expect(m.html).toContain(o.number)
        for (const words of c.says) expect(`${m.subject}\n${m.text}`).toContain(words)
        expect(m.html).toMatch(/^<p>/)
      }
      // The in-app notification says what the email says.
      for (const n of got.inApp) {
        const m = got.emails.find((x) => x.notice === n.notice)
        expect(n.title).toBe(m?.subject as string)
        expect(n.body).toBe(m?.text as string)
      }
    })
  }

  test('stock.low: every active admin and ADMIN_NOTIFY_EMAILS hear of the product, no customer', async () => {
    const [, e] = await h.apply(
      ['product.created', { ...sampleProduct('p-low'), name: 'Blue mug' }, 'p-low'],
      ['stock.low', { productId: 'p-low', available: 2, lowStockThreshold: 5 }, 'p-low'],
    )
    const got = h.producedBy((e as { id: string }).id)
    expect(got.inApp.map((n) => n.userId).sort()).toEqual(admins.map((a) => a.id).sort())
    expect(got.emails.map((m) => m.address).sort()).toEqual([...admins.map((a) => a.email), OPS].sort())
    expect(got.emails[0]).toMatchObject({
      notice: 'admin-low-stock',
      subject: 'Low stock: Blue mug (2 left)',
    })
    expect(got.emails[0]?.text).toContain('2 available, at or below its threshold of 5')
  })

  test('a disabled or deleted customer gets nothing new', async () => {
    const gone = await h.person('user', 'gone')
    const off = await h.person('user', 'off')
    const snapshot = (p: Person) => ({ id: p.id, username: p.username, email: p.email, role: p.role })
    await h.apply(
      ['user.deleted', { ...snapshot(gone), disabled: false }, gone.id],
      ['user.updated', { ...snapshot(off), disabled: true }, off.id],
    )
    for (const p of [gone, off]) {
      const o = orderOf(p.id)
      const e = await after(h, o, ['order.shipped', refOf(o), o.orderId])
      expect(h.producedBy(e.id)).toEqual({ inApp: [], emails: [] })
    }
  })
})

describe('what the notices say', () => {
  let h: NotificationHarness
  afterEach(() => h.stop())

  /** The one email of `notice` the event produced for `address`. */
  const emailOf = (eventId: string, notice: string, address: string) => {
    const m = h.producedBy(eventId).emails.find((x) => x.notice === notice && x.address === address)
    if (!m) throw new Error(`no ${notice} email to ${address}`)
    return m
  }

  test('money is written exactly per currency: 1999 EUR is €19.99, 500 JPY is ¥500', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const eur = orderOf(carol.id)
    const jpy = orderOf(carol.id)
    const paid = (o: EventData<'order.placed'>, amount: number, currency: string): SendStep => [
      'payment.succeeded',
      { ...paymentOf(o), method: 'stripe', amount: { amount, currency } },
      o.orderId,
    ]
    const e1 = await after(h, eur, paid(eur, 1999, 'EUR'))
    const e2 = await after(h, jpy, paid(jpy, 500, 'JPY'))
    expect(emailOf(e1.id, 'payment-received', carol.email).subject).toBe(
      `Payment received for order ${eur.number}: €19.99`,
    )
    expect(emailOf(e1.id, 'admin-order-paid', OPS).subject).toBe(`Order ${eur.number} paid: €19.99`)
    const yen = emailOf(e2.id, 'payment-received', carol.email)
    expect(yen.subject).toBe(`Payment received for order ${jpy.number}: ¥500`)
    expect(yen.text).toContain('¥500 by card (Stripe)')
    expect(yen.html).toContain('<strong>¥500</strong>')
  })

  test('order.awaiting_payment: the total, the time to pay by, the link to the order and how to pay', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o = orderOf(carol.id)
    const [e] = await h.apply([
      'order.awaiting_payment',
      { ...o, expiresAt: '2030-01-02T15:04:00.000Z' },
      o.orderId,
    ])
    const m = emailOf((e as { id: string }).id, 'order-reserved', carol.email)
    expect(m.subject).toBe(`Order ${o.number} reserved: pay €30.00 by 2 Jan 2030, 15:04 UTC`)
    expect(m.text).toContain(`Your order: ${PUBLIC_URL}/api/orders/${o.orderId}`)
    expect(m.text).toContain(`POST ${PUBLIC_URL}/api/payments with {"orderId": "${o.orderId}"`)
    expect(m.html).toContain(`<a href="${PUBLIC_URL}/api/orders/${o.orderId}">`)
    expect(m.html).toContain('{&quot;orderId&quot;')
  })

  test('order.rejected: per line, its name and why', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o: EventData<'order.placed'> = {
      ...orderOf(carol.id),
      lines: [
        {
          productId: 'p-1',
          name: '<script>alert(1)</script>',
          quantity: 3,
          unitPrice: { amount: 500, currency: 'EUR' },
        },
        { productId: 'p-2', name: 'Old lamp', quantity: 1, unitPrice: { amount: 500, currency: 'EUR' } },
      ],
      total: { amount: 2000, currency: 'EUR' },
    }
    const e = await after(h, o, [
      'order.rejected',
      {
        ...refOf(o),
        reasons: [
          { productId: 'p-1', reason: 'insufficient_stock', requested: 3, available: 1 },
          { productId: 'p-2', reason: 'discontinued', requested: 1, available: 0 },
          { productId: 'p-9', reason: 'unknown_product', requested: 1, available: 0 },
        ],
      },
      o.orderId,
    ])
    const m = emailOf(e.id, 'order-rejected', carol.email)
    expect(m.subject).toBe(`Order ${o.number} could not be reserved`)
    expect(m.text).toContain('<script>alert(1)</script>: you asked for 3, 1 available')
    expect(m.text).toContain('Old lamp: is no longer sold')
    expect(m.text).toContain('p-9: is not in our catalogue')
    // User-provided text is escaped in HTML.
    expect(m.html).toContain('<li>&lt;script&gt;alert(1)&lt;/script&gt;: you asked for 3, 1 available</li>')
    expect(m.html).not.toContain('<script>')
  })

  test('a username with & and <, and an admin reason with markup, are escaped in HTML, not in text', async () => {
    h = await startNotification({ env })
    const id = crypto.randomUUID()
    await h.apply([
      'user.registered',
      { id, username: 'Tom & <Jerry>', email: 'tom@mart.test', role: 'user', disabled: false },
      id,
    ])
    const o = orderOf(id)
    const e = await after(h, o, [
      'order.cancelled',
      { ...refOf(o), by: 'admin', actorId: 'admin-1', reason: '<b>out of stock</b>', refundDue: true },
      o.orderId,
    ])
    const m = emailOf(e.id, 'order-cancelled', 'tom@mart.test')
    expect(m.text).toContain('Hello Tom & <Jerry>,')
    expect(m.html).toContain('<p>Hello Tom &amp; &lt;Jerry&gt;,</p>')
    expect(m.html).toContain('Reason: &lt;b&gt;out of stock&lt;/b&gt;')
    expect(m.text).toContain('We cancelled your order')
    expect(m.text).toContain('€30.00 will be refunded')
    const admin = emailOf(e.id, 'admin-order-cancelled', OPS)
    expect(admin.subject).toBe(`Order ${o.number} cancelled by an admin`)
    expect(admin.text).toContain('A refund is due.')
    expect(admin.html).not.toContain('<b>')
  })

  test('order.cancelled by the customer before paying: nothing to refund', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o = orderOf(carol.id)
    const e = await after(h, o, [
      'order.cancelled',
      { ...sampleCancellation(o.orderId), ...refOf(o) },
      o.orderId,
    ])
    const m = emailOf(e.id, 'order-cancelled', carol.email)
    expect(m.text).toContain('You cancelled your order')
    expect(m.text).toContain('You were not charged for it.')
    expect(m.text).not.toContain('refund')
    expect(emailOf(e.id, 'admin-order-cancelled', OPS).text).toContain('cancelled by the customer')
  })

  test('payment.refunded: the amount, the total so far and why', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o = orderOf(carol.id)
    const e = await after(h, o, [
      'payment.refunded',
      {
        ...paymentOf(o),
        amount: { amount: 500, currency: 'EUR' },
        refundedTotal: { amount: 1500, currency: 'EUR' },
        reason: 'order_cancelled',
      },
      o.orderId,
    ])
    const m = emailOf(e.id, 'payment-refunded', carol.email)
    expect(m.subject).toBe(`Refund of €5.00 for order ${o.number}`)
    expect(m.text).toContain('we refunded €5.00 for order')
    expect(m.text).toContain('because the order was cancelled')
    expect(m.text).toContain('€15.00 has been refunded for this payment so far')
    const admin = emailOf(e.id, 'admin-payment-refunded', OPS)
    expect(admin.subject).toBe(`Refunded €5.00 for order ${o.number}`)
    expect(admin.text).toContain('(€15.00 so far). Reason: order_cancelled.')
  })

  test('payment.needs_review: expected and received, for admins only, in the review category', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o = orderOf(carol.id)
    const e = await after(h, o, [
      'payment.needs_review',
      {
        ...paymentOf(o),
        reason: 'a session we did not expect',
        expected: { amount: 3000, currency: 'EUR' },
        received: null,
      },
      o.orderId,
    ])
    const m = emailOf(e.id, 'admin-payment-review', OPS)
    expect(m.subject).toBe(`Payment for order ${o.number} needs review`)
    expect(m.text).toContain('Expected €30.00, received nothing known.')
    expect(m.text).toContain(`${PUBLIC_URL}/api/payments/pay-${o.orderId}`)
    expect(notices.find((n) => n.name === 'admin-payment-review')?.category).toBe('review')
  })

  test('cash on delivery: the customer has the amount ready, the admins collect it', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o = orderOf(carol.id)
    const e = await after(h, o, [
      'payment.cod_selected',
      { ...paymentOf(o), amount: { amount: 3000, currency: 'EUR' } },
      o.orderId,
    ])
    expect(emailOf(e.id, 'cod-confirmed', carol.email)).toMatchObject({
      subject: `Cash on delivery confirmed for order ${o.number}`,
      text: expect.stringContaining('have €30.00 in cash ready'),
    })
    expect(emailOf(e.id, 'admin-cod-order', OPS).subject).toBe(
      `COD order ${o.number} to deliver: collect €30.00`,
    )
  })

  test('a payment event for an order never heard of still names it (by id)', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const o = orderOf(carol.id)
    const [e] = await h.apply([
      'payment.failed',
      { ...paymentOf(o), method: 'stripe', reason: 'expired' },
      o.orderId,
    ])
    const m = emailOf((e as { id: string }).id, 'payment-failed', carol.email)
    expect(m.subject).toBe(`Payment for order ${o.orderId} failed`)
  })

  test('stock.low: the product name escaped in HTML, or its id when the product is unknown', async () => {
    h = await startNotification({ env })
    const [, named, unknown] = (await h.apply(
      ['product.created', { ...sampleProduct('p-x'), name: '<script>x</script> & co' }, 'p-x'],
      ['stock.low', { productId: 'p-x', available: 0, lowStockThreshold: 3 }, 'p-x'],
      ['stock.low', { productId: 'p-unknown', available: 1, lowStockThreshold: 3 }, 'p-unknown'],
    )) as { id: string }[]
    const m = emailOf((named as { id: string }).id, 'admin-low-stock', OPS)
    expect(m.subject).toBe('Low stock: <script>x</script> & co (0 left)')
    expect(m.html).toContain('<strong>&lt;script&gt;x&lt;/script&gt; &amp; co</strong>')
    expect(m.html).not.toContain('<script>')
    expect(emailOf((unknown as { id: string }).id, 'admin-low-stock', OPS).subject).toBe(
      'Low stock: p-unknown (1 left)',
    )
  })
})

describe('preferences', () => {
  let h: NotificationHarness
  afterEach(() => h.stop())

  test('orders email off: the in-app notice still comes, no email; payments email still goes', async () => {
    h = await startNotification({ env })
    const carol = await h.person('user', 'carol')
    const res = await h.call('PATCH', '/api/notifications/preferences', {
      token: carol.token,
      body: { orders: { email: false } },
    })
    expect(res.status).toBe(200)
    expect(res.body.orders).toEqual({ email: false, inApp: true })

    const o = orderOf(carol.id)
    const shipped = await after(h, o, ['order.shipped', refOf(o), o.orderId])
    expect(h.producedBy(shipped.id).inApp.map((n) => n.notice)).toEqual(['order-shipped'])
    expect(h.producedBy(shipped.id).emails).toEqual([])

    const [paid] = (await h.apply([
      'payment.succeeded',
      { ...paymentOf(o), method: 'cod', amount: { amount: 3000, currency: 'EUR' } },
      o.orderId,
    ])) as { id: string }[]
    const toCarol = h.producedBy((paid as { id: string }).id).emails.filter((m) => m.address === carol.email)
    expect(toCarol.map((m) => m.notice)).toEqual(['payment-received'])
  })

  test('an admin with stock email off gets low stock in-app only; other admins and ADMIN_NOTIFY_EMAILS by email', async () => {
    h = await startNotification({ env })
    const ann = await h.person('admin', 'ann')
    const abe = await h.person('admin', 'abe')
    const res = await h.call('PATCH', '/api/notifications/preferences', {
      token: ann.token,
      body: { stock: { email: false } },
    })
    expect(res.status).toBe(200)
    const [e] = (await h.apply([
      'stock.low',
      { productId: 'p-1', available: 1, lowStockThreshold: 2 },
      'p-1',
    ])) as { id: string }[]
    const got = h.producedBy((e as { id: string }).id)
    expect(got.inApp.map((n) => n.userId).sort()).toEqual([ann.id, abe.id].sort())
    expect(got.emails.map((m) => m.address).sort()).toEqual([abe.email, OPS].sort())
  })
})

test('through a real SMTP server: the customer and the admins (and ADMIN_NOTIFY_EMAILS) get their emails, both parts', async () => {
  const smtp = await startSmtp()
  const h = await startNotification({ env: { ...env, ...smtp.env() } })
  try {
    const carol = { id: crypto.randomUUID(), email: 'carol@mart.test' }
    await h.apply([
      'user.registered',
      { id: carol.id, username: 'carol & co', email: carol.email, role: 'user', disabled: false },
      carol.id,
    ])
    const ann = await h.person('admin', 'ann')
    const o = orderOf(carol.id)
    await h.apply(
      ['order.placed', o, o.orderId],
      [
        'payment.succeeded',
        { ...paymentOf(o), method: 'stripe', amount: { amount: 3000, currency: 'EUR' } },
        o.orderId,
      ],
      ['stock.low', { productId: 'p-1', available: 1, lowStockThreshold: 2 }, 'p-1'],
    )
    // carol: welcome, order received, payment received; ann: welcome; ann and OPS: new order,
    // order paid and low stock.
    await waitFor(() => smtp.inbox.length >= 4 + 3 * 2, 'the emails', 15_000)
    const subjectsTo = (to: string) =>
      smtp.inbox
        .filter((m) => m.to.includes(to))
        .map((m) => m.subject)
        .sort()
    expect(subjectsTo(carol.email)).toEqual(
      [
        `Order ${o.number} received`,
        `Payment received for order ${o.number}: €30.00`,
        'Welcome to Mart',
      ].sort(),
    )
    expect(subjectsTo(ann.email)).toEqual(
      [
        `New order ${o.number}: €30.00`,
        `Order ${o.number} paid: €30.00`,
        'Low stock: p-1 (1 left)',
        'Welcome to Mart',
      ].sort(),
    )
    expect(subjectsTo(OPS)).toEqual(subjectsTo(ann.email).filter((s) => s !== 'Welcome to Mart'))

    const received = smtp.inbox.find((m) => m.subject.startsWith('Payment received'))
    expect(received?.to).toEqual([carol.email])
    expect(received?.text).toContain(
      `Hello carol & co,\n\nwe received your payment of €30.00 by card (Stripe) for order ${o.number}.`,
    )
    expect(received?.html).toContain('<p>Hello carol &amp; co,</p>')
    expect(received?.html).toContain('<strong>€30.00</strong>')
    const delivery = h.deliveries().find((d) => d.notice === 'payment-received')
    expect(received?.messageId).toBe(delivery?.messageId as string)
  } finally {
    await h.stop()
    await smtp.stop()
  }
}, 30_000)
