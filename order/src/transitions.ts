// The order service's half of the saga as a table: what each input (an event from inventory or
// payment, a command, the expiry job) does to an order in each state. Pure: saga.ts looks a pair up
// and applies it in one transaction, so each move happens once whatever the delivery order. Events
// arrive in any order across topics; a pair the table does not name no longer applies (a late or
// repeated event) and is ignored with a warning and a counter, never a dead letter. A command whose
// pair is missing is refused (409) instead.
import type { EventData, EventType } from '@mart/shared'

export const orderStatuses = [
  'pending',
  'unpaid',
  'confirmed',
  'paid',
  'shipped',
  'delivered',
  'rejected',
  'cancelled',
  'expired',
] as const
export type OrderStatus = (typeof orderStatuses)[number]

/** The states an order never leaves. */
export const endStates = ['delivered', 'rejected', 'cancelled', 'expired'] as const satisfies OrderStatus[]
export const isEnded = (s: OrderStatus) => (endStates as readonly OrderStatus[]).includes(s)

/** Where the money stands, beside the fulfilment state: it only moves forward in this order. */
export const paymentStates = ['none', 'pending', 'paid', 'refunded'] as const
export type PaymentState = (typeof paymentStates)[number]

export const orderInputs = [
  /** stock.reserved: every line is held. */
  'reserved',
  /** stock.rejected: a line could not be held; nothing is. */
  'stock_rejected',
  /** payment.cod_selected: the customer pays cash on delivery. */
  'cod_selected',
  /** payment.succeeded: money arrived (for cash on delivery, the cash was collected). */
  'payment_succeeded',
  /** payment.refunded. */
  'refunded',
  /** The customer cancels (POST /cancel by the owner). */
  'cancel_by_user',
  /** An admin cancels. */
  'cancel_by_admin',
  /** The expiry job: the reservation time ran out. */
  'expire',
  /** An admin marks the order shipped. */
  'ship',
  /** An admin marks the order delivered. */
  'deliver',
] as const
export type OrderInput = (typeof orderInputs)[number]

/** The order events a move can announce (cancellation carries who and why: saga.ts builds each). */
export type MovedEventType = Extract<
  EventType,
  | 'order.awaiting_payment'
  | 'order.confirmed'
  | 'order.rejected'
  | 'order.cancelled'
  | 'order.paid'
  | 'order.expired'
  | 'order.shipped'
  | 'order.delivered'
>

export interface Move {
  to: OrderStatus
  /** What the order announces; none for a move that only records something. */
  emit?: MovedEventType
  /** The payment field afterwards (never backwards: saga.ts keeps the later of the two). */
  payment?: PaymentState
  /** The order no longer expires: its expiry job is cancelled. */
  stopsExpiry?: boolean
}

const to = (status: OrderStatus, rest: Omit<Move, 'to'> = {}): Move => ({ to: status, ...rest })

// Moves shared by several states.
const cancelled: Move = to('cancelled', { emit: 'order.cancelled', stopsExpiry: true })
const paid: Move = to('paid', { emit: 'order.paid', payment: 'paid', stopsExpiry: true })
const refunded = (s: OrderStatus): Move => to(s, { payment: 'refunded' })
/** Money arrived for an order that has ended: recorded, not announced; payment refunds it. */
const moneyAfterEnd = (s: OrderStatus): Move => to(s, { payment: 'paid' })

/**
 * state x input -> move. Missing pairs, and why they are missing, are said per state. Cash on
 * delivery records its payment without leaving its state: confirmed, shipped or delivered.
 */
const table: Record<OrderStatus, Partial<Record<OrderInput, Move>>> = {
  // Ignored: refunds (nothing was paid), ship and deliver (nothing is reserved or paid yet).
  pending: {
    reserved: to('unpaid', { emit: 'order.awaiting_payment' }),
    stock_rejected: to('rejected', { emit: 'order.rejected', stopsExpiry: true }),
    // Payment overtook inventory's answer (they travel on different topics): the order moves on;
    // inventory's answer, when it comes, finds the order past it (or rejects it, see below).
    cod_selected: to('confirmed', { emit: 'order.confirmed', payment: 'pending', stopsExpiry: true }),
    payment_succeeded: paid,
    cancel_by_user: cancelled,
    cancel_by_admin: cancelled,
    expire: to('expired', { emit: 'order.expired' }),
  },
  // Ignored: a second stock.reserved, a stock.rejected (inventory answers an order once), refunds.
  unpaid: {
    cod_selected: to('confirmed', { emit: 'order.confirmed', payment: 'pending', stopsExpiry: true }),
    payment_succeeded: paid,
    cancel_by_user: cancelled,
    cancel_by_admin: cancelled,
    expire: to('expired', { emit: 'order.expired' }),
  },
  // Cash on delivery: never expires. Ignored: stock.reserved (payment overtook it), another
  // cod_selected, the expiry job (cancelled when the order was confirmed).
  confirmed: {
    // Payment overtook inventory, and inventory could not hold the goods after all.
    stock_rejected: to('rejected', { emit: 'order.rejected' }),
    // The cash was collected before the parcel left.
    payment_succeeded: to('confirmed', { emit: 'order.paid', payment: 'paid' }),
    refunded: refunded('confirmed'),
    cancel_by_user: cancelled,
    cancel_by_admin: cancelled,
    ship: to('shipped', { emit: 'order.shipped' }),
  },
  // Ignored: stock.reserved (payment overtook it), a second payment (payment refunds a double
  // charge), the customer's cancellation (only an admin cancels a paid order), expiry.
  paid: {
    // Payment overtook inventory, which then could not hold the goods: the money is refunded.
    stock_rejected: to('rejected', { emit: 'order.rejected' }),
    refunded: refunded('paid'),
    cancel_by_admin: cancelled,
    ship: to('shipped', { emit: 'order.shipped' }),
  },
  // Ignored: cancellations (the goods left), expiry, inventory's answers, a second ship.
  shipped: {
    // Cash on delivery collected at the door.
    payment_succeeded: to('shipped', { emit: 'order.paid', payment: 'paid' }),
    refunded: refunded('shipped'),
    deliver: to('delivered', { emit: 'order.delivered' }),
  },
  // Ended, but cash on delivery can still be collected after delivery, and money refunded.
  delivered: {
    payment_succeeded: to('delivered', { emit: 'order.paid', payment: 'paid' }),
    refunded: refunded('delivered'),
  },
  // Ended: a payment does not revive the order (payment refunds it); it is recorded.
  rejected: { payment_succeeded: moneyAfterEnd('rejected'), refunded: refunded('rejected') },
  cancelled: { payment_succeeded: moneyAfterEnd('cancelled'), refunded: refunded('cancelled') },
  expired: { payment_succeeded: moneyAfterEnd('expired'), refunded: refunded('expired') },
}

/** What `input` does to an order in `state`; undefined when it no longer applies. */
export const transition = (state: OrderStatus, input: OrderInput): Move | undefined => table[state][input]

/** The input each consumed event is. */
export const inputOf = {
  'stock.reserved': 'reserved',
  'stock.rejected': 'stock_rejected',
  'payment.cod_selected': 'cod_selected',
  'payment.succeeded': 'payment_succeeded',
  'payment.refunded': 'refunded',
} as const satisfies Partial<Record<EventType, OrderInput>>

/**
 * Why payment.refunded leaves the order's payment as it is (undefined: it becomes `refunded`). The
 * field says `refunded` once the money that paid the order is all back: a refund of a second charge
 * gives back money the order never counted (its own payment stands), and part of the money leaves
 * it paid.
 */
export function refundShortOf(r: EventData<'payment.refunded'>, total: number): string | undefined {
  if (r.reason === 'duplicate') {
    return 'a refund of another payment that charged the order twice: its own payment stands'
  }
  const back = (r.refundedTotal ?? r.amount).amount
  if (back < total) return `a refund of part of the payment: ${back} of ${total} ${r.amount.currency} back`
  return undefined
}
