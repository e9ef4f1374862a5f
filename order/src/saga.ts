// Applies the transition table to one order, in the caller's transaction and through its handle
// alone: the order row, its event, its expiry job, its version snapshot and its timeline entry
// commit together or not at all.
import { type EventData, type Logger, onceFor, type Role, type Tx } from '@mart/shared'
import { eq, sql } from 'drizzle-orm'
import type { OrderChanges } from './changes.ts'
import type * as schema from './db/schema.ts'
import { orders, orderVersions, timeline } from './db/schema.ts'
import { type MoveDetails, movedData } from './order-events.ts'

import {
  isEnded,
  type Move,
  type OrderInput,
  type OrderStatus,
  type PaymentState,
  paymentStates,
  refundShortOf,
  transition,
} from './transitions.ts'
import { type Db, linesOf, type OrderRow, type OrderView, type Outcome, orderIn, viewOf } from './view.ts'

export type T = Tx<typeof schema>

/** The durable job that expires an unpaid order; its key is the order id. */
export const EXPIRY_JOB = 'order.expire'

/** Something that happened to an order: an event consumed, a command, the expiry job. */
export interface Happening {
  input: OrderInput
  /** The event type, command or job name, as the timeline shows it. */
  type: string
  source: string
  eventId?: string | undefined
  causationId?: string | null | undefined
  /** For a command: who acted, and with which role. */
  actor?: { id: string; role: Role }
  /** Why, for a cancellation. */
  reason?: string | undefined
  rejections?: EventData<'stock.rejected'>['reasons']
  paymentId?: string
}

export type Applied =
  | { moved: true; from: OrderStatus; order: OrderRow; view: OrderView }
  | { moved: false; state: OrderStatus | null }

const p = sql.placeholder
const statements = onceFor((db: Db) => ({
  // set() takes values or SQL, not placeholders: each goes in as SQL, as it is (none of these
  // columns maps its values).
  move: db
    .update(orders)
    .set({
      status: sql`${p('status')}`,
      payment: sql`${p('payment')}`,
      expiresAt: sql`${p('expiresAt')}`,
      outcome: sql`${p('outcome')}`,
      version: sql`${p('version')}`,
      updatedAt: sql`${p('updatedAt')}`,
    })
    .where(eq(orders.id, p('id')))
    .returning()
    .prepare(),
  version: db
    .insert(orderVersions)
    .values({ orderId: p('orderId'), version: p('version'), view: p('view') })
    .prepare(),
  timeline: db
    .insert(timeline)
    .values({
      orderId: p('orderId'),
      type: p('type'),
      input: p('input'),
      source: p('source'),
      eventId: p('eventId'),
      causationId: p('causationId'),
      actorId: p('actorId'),
      fromStatus: p('fromStatus'),
      toStatus: p('toStatus'),
      outcome: p('outcome'),
      emitted: p('emitted'),
      reason: p('reason'),
      at: p('at'),
    })
    .prepare(),
}))

/** The later of two payment states: the payment field never moves backwards. */
const later = (a: PaymentState, b: PaymentState | undefined): PaymentState =>
  b !== undefined && paymentStates.indexOf(b) > paymentStates.indexOf(a) ? b : a

function outcomeOf(move: Move, h: Happening, refundDue: boolean): Outcome | undefined {
  if (move.emit === 'order.rejected') return { kind: 'rejected', reasons: h.rejections ?? [] }
  if (move.emit === 'order.expired') return { kind: 'expired' }
  if (move.emit === 'order.cancelled')
    return { kind: 'cancelled', by: h.actor?.role ?? 'user', reason: h.reason ?? '', refundDue }
  return undefined
}

export class OrderSaga {
  /** How many inputs each (state, input) pair has ignored since the service started. */
  private readonly ignored = new Map<string, number>()

  constructor(
    private readonly log: Logger,
    private readonly changes: OrderChanges,
  ) {}

  /** Moves the order as the table says for its state and this input, or records that it was ignored. */
  apply(t: T, orderId: string, h: Happening): Applied {
    const order = orderIn(t.db, orderId)
    if (!order) {
      this.ignore(t, orderId, null, h, 'no such order here')
      return { moved: false, state: null }
    }
    const move = transition(order.status, h.input)
    if (!move) {
      this.ignore(t, orderId, order.status, h, `no transition from ${order.status} on ${h.input}`, true)
      return { moved: false, state: order.status }
    }
    const payment = later(order.payment, move.payment)
    // The same news again (a second refund, the money of an ended order announced twice): nothing to do.
    if (move.to === order.status && payment === order.payment) {
      this.ignore(t, orderId, order.status, h, 'already recorded')
      return { moved: false, state: order.status }
    }

    const now = Date.now()
    const refundDue = payment === 'paid'
    const outcome = outcomeOf(move, h, refundDue)
    const expires = !move.stopsExpiry && !isEnded(move.to) && order.expiresAt !== null
    const updated = statements(t.db).move.get({
      id: orderId,
      status: move.to,
      payment,
      expiresAt: expires ? order.expiresAt : null,
      outcome: outcome ? JSON.stringify(outcome) : order.outcome,
      version: order.version + 1,
      updatedAt: now,
    }) as OrderRow
    // The expiry job itself is marked done by its runner, in this transaction: only others are cancelled.
    if (order.expiresAt !== null && !expires && h.input !== 'expire') t.cancelJob(EXPIRY_JOB, orderId)

    const lines = linesOf(t.db, orderId)
    const details: MoveDetails = { lines }
    if (h.rejections) details.rejections = h.rejections
    if (h.paymentId) details.paymentId = h.paymentId
    if (move.emit === 'order.cancelled') {
      details.cancellation = {
        by: h.actor?.role ?? 'user',
        actorId: h.actor?.id ?? updated.userId,
        reason: h.reason ?? '',
        refundDue,
      }
    }
    const emitted = move.emit
      ? [t.publish(move.emit, movedData(move.emit, updated, details), { subject: orderId })]
      : []
    const view = viewOf(updated, lines)
    this.record(t, updated, view, {
      ...h,
      from: order.status,
      emitted: emitted.map((e) => ({ type: e.type, id: e.id })),
      at: now,
    })
    return { moved: true, from: order.status, order: updated, view }
  }

  /** payment.refunded: the payment field `refunded` once the order's money is all back, else only noted. */
  refunded(t: T, refund: EventData<'payment.refunded'>, h: Happening): Applied {
    const order = orderIn(t.db, refund.orderId)
    const short = order && refundShortOf(refund, order.totalAmount)
    if (!order || !short) return this.apply(t, refund.orderId, h)
    this.ignore(t, refund.orderId, order.status, h, short)
    return { moved: false, state: order.status }
  }

  /** Stores the new version's view and the timeline entry, and tells the streams once committed. */
  record(t: T, order: OrderRow, view: OrderView, entry: TimelineEntry): void {
    statements(t.db).version.run({ orderId: order.id, version: order.version, view: JSON.stringify(view) })
    writeTimeline(t, order.id, { ...entry, to: order.status, outcome: 'moved' })
    t.afterCommit(() => this.changes.changed(order.id, order.version))
  }

  private ignore(
    t: T,
    orderId: string,
    state: OrderStatus | null,
    h: Happening,
    reason: string,
    warn = false,
  ) {
    writeTimeline(t, orderId, {
      ...h,
      from: state,
      to: state,
      outcome: 'ignored',
      reason,
      emitted: [],
      at: Date.now(),
    })
    if (!warn && state !== null) return
    // Counted once the event is recorded as handled: an attempt that rolled back ignored nothing.
    t.afterCommit(() => {
      const pair = `${state ?? 'none'} x ${h.input}`
      const ignored = (this.ignored.get(pair) ?? 0) + 1
      this.ignored.set(pair, ignored)
      this.log.warn(
        { orderId, state, input: h.input, event: h.type, eventId: h.eventId, ignored },
        'order input ignored: no transition from this state',
      )
    })
  }
}

export interface TimelineEntry extends Omit<Happening, 'rejections' | 'paymentId' | 'input'> {
  input: OrderInput | 'placed'
  from: OrderStatus | null
  emitted: { type: string; id: string }[]
  at: number
  to?: OrderStatus | null
  outcome?: 'moved' | 'ignored'
}

function writeTimeline(t: T, orderId: string, e: TimelineEntry & { outcome: 'moved' | 'ignored' }) {
  statements(t.db).timeline.run({
    orderId,
    type: e.type,
    input: e.input,
    source: e.source,
    eventId: e.eventId ?? e.emitted[0]?.id ?? null,
    causationId: e.causationId ?? null,
    actorId: e.actor?.id ?? null,
    fromStatus: e.from,
    toStatus: e.to ?? null,
    outcome: e.outcome,
    emitted: JSON.stringify(e.emitted),
    reason: e.reason ?? null,
    at: e.at,
  })
}
