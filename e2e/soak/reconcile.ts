// After a run of traffic on the whole system: what the events on the topics say each order, each
// product's stock, each payment and each email must be, checked against what the services answer
// and what the SMTP server received. Answers a list of problems (empty when everything reconciles)
// and the figures, so that a suite can print all of them before it fails on the first.
import { decodeEvent, type Event, type EventType, serviceNames, topics } from '@mart/shared'
import { notices } from '../../notification/src/notices/index.ts'
import type { NoticeContext } from '../../notification/src/notices/notice.ts'
import { messageIdOf } from '../../notification/src/notify.ts'
import type { Retrying } from '../test/retrying.ts'
import type { System } from '../test/system.ts'

/** What the test meant to happen to one order, and what it did to get there. */
export interface Planned {
  index: number
  fate: Fate
  customer: number
  lines: { productId: string; quantity: number }[]
  /** The order's id, once POST /api/orders answered. */
  id?: string
  /** The state the client saw the order reach before it acted (`unpaid`, or `rejected`). */
  reached?: string
  /** The client gave up on it: why. */
  failed?: string
}

export type Fate = 'stripe' | 'refunded' | 'cod' | 'cod-shipped' | 'cancel' | 'unpaid'

/** The state an order of each fate ends in once inventory held it. */
const intended: Record<Fate, { status: string; payment: string }> = {
  stripe: { status: 'paid', payment: 'paid' },
  refunded: { status: 'cancelled', payment: 'refunded' },
  cod: { status: 'confirmed', payment: 'pending' },
  'cod-shipped': { status: 'shipped', payment: 'pending' },
  cancel: { status: 'cancelled', payment: 'none' },
  unpaid: { status: 'unpaid', payment: 'none' },
}

/** What each order event makes of the order's status (order.paid leaves a cash order where it is). */
const orderMoves: Partial<Record<EventType, (s: string) => string>> = {
  'order.placed': () => 'pending',
  'order.awaiting_payment': () => 'unpaid',
  'order.confirmed': () => 'confirmed',
  'order.paid': (s) => (['confirmed', 'shipped', 'delivered'].includes(s) ? s : 'paid'),
  'order.rejected': () => 'rejected',
  'order.cancelled': () => 'cancelled',
  'order.expired': () => 'expired',
  'order.shipped': () => 'shipped',
  'order.delivered': () => 'delivered',
}
const paymentRank = ['none', 'pending', 'paid', 'refunded']
const paymentMoves: Partial<Record<EventType, string>> = {
  'payment.cod_selected': 'pending',
  'payment.succeeded': 'paid',
  'payment.refunded': 'refunded',
}

/** The statuses whose goods are held on the shelf, and those whose goods left it. */
const HOLDING = ['unpaid', 'confirmed']
const GONE = ['paid', 'shipped', 'delivered']

export interface Reconciled {
  problems: string[]
  figures: {
    orders: Record<string, number>
    /** Events seen on a topic more than once under one id (a relay killed before it marked them sent). */
    republished: number
    emails: number
    distinctEmails: number
    inApp: number
    /** Message-IDs the SMTP server took more than once. */
    repeats: number
  }
}

// biome-ignore lint/suspicious/noExplicitAny: events of every type are read generically
type AnyEvent = Event<any>

export async function reconcile(
  sys: System,
  client: Retrying,
  opts: { adminToken: string; plans: Planned[]; stock: Map<string, number>; emailRepeatsAllowed: number },
): Promise<Reconciled> {
  const problems: string[] = []
  const admin = { token: opts.adminToken }
  const get = async (path: string) => {
    const r = await client.call('GET', path, admin)
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`)
    return r.body
  }

  // Every event of every type once, by id; a second copy under the same id is at-least-once
  // delivery (counted), a second event with another id for the same move is a bug (a problem).
  const all = new Map<string, AnyEvent>()
  let republished = 0
  for (const d of sys.messages()) {
    if (!(topics as readonly string[]).includes(d.topic)) continue
    const e = decodeEvent(d.value) as AnyEvent
    if (all.has(e.id)) republished++
    else all.set(e.id, e)
  }
  const events = [...all.values()]
  const ofOrder = new Map<string, AnyEvent[]>()
  for (const e of events) {
    const orderId = (e.data as { orderId?: string }).orderId
    if (!orderId || !(e.type.startsWith('order.') || e.type.startsWith('payment.'))) continue
    ofOrder.set(orderId, [...(ofOrder.get(orderId) ?? []), e])
  }

  // One order per request: a retried POST with its Idempotency-Key made no second order.
  const ours = new Set(opts.plans.map((p) => p.id))
  for (const e of events.filter((x) => x.type === 'order.placed' && !ours.has(x.data.orderId))) {
    problems.push(`order ${e.data.orderId} (${e.data.number}) was placed, but no client was told of it`)
  }

  // Orders: the status and payment field the service answers are what the events say, and what the
  // client meant (unless inventory rejected the order, which the scarce products make happen).
  const statuses = new Map<string, string>()
  const counts: Record<string, number> = {}
  for (const p of opts.plans) {
    if (!p.id) {
      problems.push(`order #${p.index} was never placed: ${p.failed ?? 'no answer'}`)
      continue
    }
    if (p.failed) problems.push(`order #${p.index} (${p.id}, ${p.fate}): the client gave up: ${p.failed}`)
    const evs = ofOrder.get(p.id) ?? []
    let status = 'none'
    let payment = 'none'
    const perType = new Map<string, number>()
    for (const e of evs) {
      perType.set(e.type, (perType.get(e.type) ?? 0) + 1)
      const move = orderMoves[e.type as EventType]
      if (move) status = move(status)
      const pay = paymentMoves[e.type as EventType]
      if (pay && paymentRank.indexOf(pay) > paymentRank.indexOf(payment)) payment = pay
    }
    for (const [type, n] of perType) {
      if (n > 1) problems.push(`order ${p.id}: ${n} distinct ${type} events`)
    }
    const view = await get(`/api/orders/${p.id}`)
    statuses.set(p.id, status)
    counts[view.status] = (counts[view.status] ?? 0) + 1
    if (view.status !== status || view.payment !== payment) {
      problems.push(
        `order ${p.id} (${p.fate}): the service says ${view.status}/${view.payment}, its events ${status}/${payment}`,
      )
    }
    const want = p.reached === 'rejected' ? { status: 'rejected', payment: 'none' } : intended[p.fate]
    if (view.status !== want.status || view.payment !== want.payment) {
      problems.push(
        `order ${p.id} (${p.fate}, reached ${p.reached}): ${view.status}/${view.payment}, meant ${want.status}/${want.payment}`,
      )
    }
  }

  // Stock: for every product, on hand is the initial stock less what the orders whose goods left
  // took; reserved is what the orders still holding hold. Lines as the order service merged them.
  for (const [productId, initial] of opts.stock) {
    let gone = 0
    let held = 0
    for (const [orderId, status] of statuses) {
      const placed = (ofOrder.get(orderId) ?? []).find((e) => e.type === 'order.placed')
      const units = (placed?.data.lines as { productId: string; quantity: number }[] | undefined)
        ?.filter((l) => l.productId === productId)
        .reduce((n, l) => n + l.quantity, 0)
      if (!units) continue
      if (GONE.includes(status)) gone += units
      if (HOLDING.includes(status)) held += units
    }
    const item = await get(`/api/inventory/${productId}`)
    if (item.onHand !== initial - gone || item.reserved !== held) {
      problems.push(
        `product ${productId}: onHand ${item.onHand} reserved ${item.reserved}, the orders imply ${initial - gone} and ${held}`,
      )
    }
  }

  // Payments: one succeeded per order paid by card, none for the others, by the events and by the
  // payment service; a refund only where an admin cancelled a paid order (its cause), once.
  const payments: { id: string; orderId: string; status: string; method: string }[] = []
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page = await get(`/api/payments?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    payments.push(...page.items)
    cursor = page.nextCursor
  }
  for (const p of opts.plans.filter((x) => x.id)) {
    const id = p.id as string
    const evs = ofOrder.get(id) ?? []
    const succeeded = new Set(evs.filter((e) => e.type === 'payment.succeeded').map((e) => e.data.paymentId))
    const refunded = evs.filter((e) => e.type === 'payment.refunded')
    const rows = payments.filter((x) => x.orderId === id)
    const byCard = p.reached === 'unpaid' && (p.fate === 'stripe' || p.fate === 'refunded')
    const wantRefund = p.reached === 'unpaid' && p.fate === 'refunded'
    const rowStatus = byCard ? (wantRefund ? 'refunded' : 'succeeded') : undefined
    if (
      succeeded.size !== (byCard ? 1 : 0) ||
      rows.filter((x) => x.status === rowStatus).length !== (byCard ? 1 : 0)
    ) {
      problems.push(
        `order ${id} (${p.fate}): ${succeeded.size} payments succeeded by the events, GET /api/payments says ${rows.map((x) => x.status)}`,
      )
    }
    if (rows.length > 1) problems.push(`order ${id}: ${rows.length} payments (${rows.map((x) => x.status)})`)
    if (
      refunded.length !== (wantRefund ? 1 : 0) ||
      refunded.some((e) => e.data.reason !== 'order_cancelled')
    ) {
      problems.push(`order ${id} (${p.fate}): refunds ${JSON.stringify(refunded.map((e) => e.data.reason))}`)
    }
  }

  // Emails. Every email's Message-ID is derived from (event id, notice, address), so the events
  // imply exactly which Message-IDs must reach the SMTP server: each notice of the catalogue whose
  // trigger is an event's type, to the event's customer or to every admin. The server must have each
  // of them and nothing else; the notification service's ledger must say each is sent.
  const people = new Map<string, { email: string; role: string }>()
  for (const e of sys.published('user.registered')) people.set(e.data.id, e.data)
  const admins = [...people.values()].filter((u) => u.role === 'admin').map((u) => u.email)
  const noContext = new Proxy({} as NoticeContext, {
    get: () => {
      throw new Error('a notice looked up its context to pick its recipient')
    },
  })
  const expected = new Map<string, { address: string; notice: string; about: string }>()
  for (const e of events) {
    for (const n of notices.filter((x) => x.trigger === e.type)) {
      const userId = n.userOf ? n.userOf(e.data, noContext) : (e.data as { userId?: string }).userId
      const to = n.audience === 'admins' ? admins : [people.get(userId ?? '')?.email ?? '']
      const about = (e.data as { orderId?: string; productId?: string }).orderId ?? e.subject
      for (const address of to) {
        if (!address) problems.push(`${n.name} for ${e.type} ${e.id}: no address for ${userId}`)
        else expected.set(messageIdOf(e.id, n.name, address), { address, notice: n.name, about })
      }
    }
  }
  const inbox = sys.smtp.inbox
  const copies = new Map<string, typeof inbox>()
  for (const mail of inbox) copies.set(mail.messageId, [...(copies.get(mail.messageId) ?? []), mail])
  for (const id of expected.keys()) {
    if (!copies.has(id)) problems.push(`email ${id} (${JSON.stringify(expected.get(id))}) never arrived`)
  }
  for (const [id, mails] of copies) {
    if (!expected.has(id))
      problems.push(`email ${id} to ${mails[0]?.to} "${mails[0]?.subject}": no event calls for it`)
    if (new Set(mails.map((m) => `${m.to}|${m.subject}`)).size > 1) {
      problems.push(`Message-ID ${id} carried different emails`)
    }
  }
  const repeated = [...copies.values()].filter((m) => m.length > 1)
  if (repeated.length > opts.emailRepeatsAllowed || repeated.some((m) => m.length > 2)) {
    problems.push(
      `${repeated.length} Message-IDs repeated (${repeated.map((m) => `${m.length}x ${m[0]?.subject}`).join('; ')}), at most ${opts.emailRepeatsAllowed} allowed`,
    )
  }
  // No (recipient, notice, order) by two Message-IDs: one event per move (checked above) makes one
  // email each. Low-stock is left out: stock may cross its threshold again after a cancellation.
  const perTopic = new Map<string, string[]>()
  for (const id of copies.keys()) {
    const m = expected.get(id)
    if (!m || m.notice === 'admin-low-stock') continue
    const key = `${m.address}|${m.notice}|${m.about}`
    perTopic.set(key, [...(perTopic.get(key) ?? []), id])
  }
  for (const [key, ids] of perTopic) if (ids.length > 1) problems.push(`${key}: ${ids.length} Message-IDs`)
  const ledger: { messageId: string; status: string }[] = []
  for (let cursor: string | null = ''; cursor !== null; ) {
    const path = `/api/notifications/deliveries?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const page = await get(path)
    ledger.push(...page.items)
    cursor = page.nextCursor
  }
  for (const d of ledger.filter((x) => x.status !== 'sent'))
    problems.push(`delivery ${d.messageId} is ${d.status}`)
  const ledgerIds = new Set(ledger.map((d) => d.messageId))
  if (ledgerIds.size !== ledger.length) problems.push('the delivery ledger has one Message-ID twice')
  for (const id of expected.keys()) if (!ledgerIds.has(id)) problems.push(`email ${id} is not in the ledger`)

  // In-app: one notification per (event, notice, person), as for email: every recipient here is a
  // user with email on, so the count is the expected emails', and no title twice for one person
  // (titles name the order; low-stock left out as above).
  const inApp: { userId: string; notice: string; title: string }[] = []
  for (let cursor: string | null = ''; cursor !== null; ) {
    const page = await get(
      `/api/notifications?all=true&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    )
    inApp.push(...page.items)
    cursor = page.nextCursor
  }
  const ownNotices = inApp.filter((n) => n.notice !== 'announcement')
  if (ownNotices.length !== expected.size) {
    problems.push(`${ownNotices.length} in-app notifications, the events imply ${expected.size}`)
  }
  const titles = new Map<string, number>()
  for (const n of ownNotices.filter((x) => x.notice !== 'admin-low-stock')) {
    const key = `${n.userId}|${n.notice}|${n.title}`
    titles.set(key, (titles.get(key) ?? 0) + 1)
  }
  for (const [key, n] of titles) if (n > 1) problems.push(`in-app ${key}: ${n} times`)

  // Nothing dead-lettered, no dead job anywhere.
  for (const d of sys.deadLetters()) {
    problems.push(`dead letter on ${d.topic}: ${JSON.stringify(d.headers)}`)
  }
  for (const name of serviceNames) {
    const ready = (await (await fetch(`${sys.urlOf(name)}/ready`)).json()) as { jobs?: { dead: number } }
    if (ready.jobs?.dead) problems.push(`${name}: ${ready.jobs.dead} dead jobs`)
  }

  return {
    problems,
    figures: {
      orders: counts,
      republished,
      emails: inbox.length,
      distinctEmails: copies.size,
      inApp: inApp.length,
      repeats: repeated.length,
    },
  }
}
