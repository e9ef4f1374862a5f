// Inventory's part of the order saga as a table: what each order or payment event does to an
// order's hold on stock, given where that hold stands. Pure: stock.ts looks a pair up and applies
// it in the handler's transaction, so each transition happens at most once whatever the delivery
// order. Events may arrive in any order across topics; a pair the table does not name no longer
// applies (a late or repeated event) and is ignored with a warning, never a dead letter.
import type { EventType } from '@mart/shared'

/**
 * Where an order stands with inventory (the `order_holds` row). `reserved` holds stock;
 * `rejected`, `released` and `committed` are final; `released` and `paid` may be tombstones, left by
 * a release or a payment that arrived before the order.placed they follow.
 */
export const holdStates = ['reserved', 'rejected', 'released', 'committed', 'paid'] as const
export type HoldState = (typeof holdStates)[number]

/** The table's states: a hold's, or `none` when inventory has not heard of the order yet. */
export const tableStates = ['none', ...holdStates] as const
export type TableState = (typeof tableStates)[number]

/**
 * What happened to the order: order.placed is `placed` when every line can be reserved and
 * `placed_short` when one cannot (unknown, discontinued, not enough available); the others by
 * `inputOf`.
 */
export const holdInputs = ['placed', 'placed_short', 'cancelled', 'rejected', 'paid', 'shipped'] as const
export type HoldInput = (typeof holdInputs)[number]

/** What a transition does to the shelf, in order. */
export const holdEffects = [
  /** Every line held: available drops, on hand stays; stock.reserved. */
  'reserve',
  /** Nothing held; stock.rejected with a reason per refused line. */
  'reject',
  /** What the order holds goes back on the shelf: available rises; stock.released. */
  'releaseHold',
  /** What the order holds leaves the shelf for good: on hand drops; stock.committed. */
  'shipHold',
] as const
export type HoldEffect = (typeof holdEffects)[number]

export interface HoldTransition {
  to: HoldState
  effects: readonly HoldEffect[]
}

const becomes = (to: HoldState, ...effects: HoldEffect[]): HoldTransition => ({ to, effects })

/**
 * state x input -> { to, effects }. A pair that leaves the state as it is with no effect is an
 * expected repeat (both payment events announce one payment; order.rejected answers our
 * stock.rejected); a missing pair is one that no longer applies.
 */
const table: Record<TableState, Partial<Record<HoldInput, HoldTransition>>> = {
  none: {
    placed: becomes('reserved', 'reserve'),
    placed_short: becomes('rejected', 'reject'),
    // Tombstones: nothing is held, and the lines are not known yet.
    cancelled: becomes('released'),
    rejected: becomes('released'),
    paid: becomes('paid'),
  },
  paid: {
    // Paid before inventory saw the order: what is reserved leaves the shelf at once.
    placed: becomes('committed', 'reserve', 'shipHold'),
    placed_short: becomes('rejected', 'reject'),
    // A release beats a payment: an order is only cancelled or expired while unpaid, so a payment
    // seen for it is refunded by its own service, not shipped.
    cancelled: becomes('released'),
    rejected: becomes('released'),
  },
  reserved: {
    cancelled: becomes('released', 'releaseHold'),
    rejected: becomes('released', 'releaseHold'),
    paid: becomes('committed', 'shipHold'),
    // Shipped before it is paid (cash on delivery): the goods leave the shelf with the parcel.
    shipped: becomes('committed', 'shipHold'),
  },
  rejected: { rejected: becomes('rejected') },
  // Closed before inventory saw the order, or released: its service knows; reserving would reopen it.
  released: {},
  // Whichever of the payment and the shipment comes first ships the hold; the others find it done.
  committed: { paid: becomes('committed'), shipped: becomes('committed') },
}

/** What `input` does to a hold in `state`; undefined when it no longer applies. */
export const transition = (state: TableState, input: HoldInput): HoldTransition | undefined =>
  table[state][input]

/** The input each order and payment event is (order.placed's depends on its lines: see holdInputs). */
export const inputOf = {
  'order.cancelled': 'cancelled',
  'order.expired': 'cancelled',
  'order.rejected': 'rejected',
  'payment.succeeded': 'paid',
  'order.paid': 'paid',
  'order.shipped': 'shipped',
} as const satisfies Partial<Record<EventType, HoldInput>>
