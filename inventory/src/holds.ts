// Inventory's part of the order saga as a table: what each order or payment event does to an
// order's hold on stock, given where that hold stands. Pure: reservations.ts looks a pair up and
// applies it in the handler's transaction, so each transition happens at most once whatever the
// delivery order. Events may arrive in any order across topics; a pair the table does not name no
// longer applies (a late or repeated event) and is ignored with a warning, never a dead letter.
//
// What the table relies on from the order service (issue 9): an order's own events travel in order
// on its partition (placed, then paid, shipped or ended); it is cancelled by its customer before
// payment and by an admin until it ships, and expires only unpaid; it ships only once paid or
// confirmed for cash on delivery; and a payment that arrives after it ended does not revive it (the
// order stays ended and payment refunds the money). Only payment.succeeded travels on another topic,
// so it is the event that can overtake or trail the others.
import type { EventType } from '@mart/shared'

/**
 * Where an order stands with inventory (the `order_holds` row). `reserved` holds stock; `committed`
 * has taken it off the shelf for an order that has not shipped yet, so a cancellation still brings
 * it back; `rejected`, `released`, `shipped` and `restocked` are final. `released` and `paid` may be
 * tombstones, left by a release or a payment that arrived before the order.placed they follow.
 */
export const holdStates = [
  'reserved',
  'rejected',
  'released',
  'committed',
  'paid',
  'shipped',
  'restocked',
] as const
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
  /** What the order holds leaves the shelf, its lines kept until the order ships: on hand drops; stock.committed. */
  'shipHold',
  /** What the order took off the shelf and never shipped goes back on it: on hand rises; stock.released. */
  'restock',
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
 * stock.rejected); a missing pair is one that no longer applies, and why is said per state.
 */
const table: Record<TableState, Partial<Record<HoldInput, HoldTransition>>> = {
  // Ignored: order.shipped, which follows order.placed on the order's partition: inventory cannot
  // ship lines it has never seen.
  none: {
    placed: becomes('reserved', 'reserve'),
    placed_short: becomes('rejected', 'reject'),
    // Tombstones: nothing is held, and the lines are not known yet.
    cancelled: becomes('released'),
    rejected: becomes('released'),
    paid: becomes('paid'),
  },
  // Ignored: a second payment before the order (the tombstone says it already), and order.shipped
  // (as for `none`).
  paid: {
    // Paid before inventory saw the order: what is reserved leaves the shelf at once.
    placed: becomes('committed', 'reserve', 'shipHold'),
    placed_short: becomes('rejected', 'reject'),
    // The order ended, and a payment does not revive it: its own service refunds it, and nothing
    // leaves the shelf.
    cancelled: becomes('released'),
    rejected: becomes('released'),
  },
  // Ignored: another order.placed (the order's lines are held already).
  reserved: {
    cancelled: becomes('released', 'releaseHold'),
    rejected: becomes('released', 'releaseHold'),
    // Paid: the goods leave the shelf and wait for the parcel; a cancellation can still bring them back.
    paid: becomes('committed', 'shipHold'),
    // Shipped before it is paid (cash on delivery): the goods leave the shelf with the parcel, for good.
    shipped: becomes('shipped', 'shipHold'),
  },
  // Ignored: anything but the order service's answer to our stock.rejected; a rejected order is
  // neither paid for (payment refunds what arrives) nor shipped.
  rejected: { rejected: becomes('rejected') },
  // Ignored: everything. Closed before inventory saw the order, or released: its service knows, and
  // reserving would reopen it. A payment that arrives now is for an ended order: refunded, not shipped.
  released: {},
  // Ignored: order.placed (held already) and order.rejected (only ever answers a stock.rejected).
  committed: {
    // Cancelled before it shipped (an admin, a paid order) or ended while a payment was on its way
    // here (a customer's cancellation or an expiry that the order service saw before the payment):
    // either way the order never ships, so what it took goes back on the shelf. An expiry counts as
    // much as a cancellation: the order service expires only unpaid orders, so a committed hold
    // meeting order.expired was committed by a late payment, which payment refunds; keeping the
    // goods off the shelf would lose them for good, and only when the payment happened to win the
    // race here (the expiry first releases them).
    cancelled: becomes('restocked', 'restock'),
    // payment.succeeded and order.paid both announce the payment: the second finds it committed.
    paid: becomes('committed'),
    // The parcel took what was off the shelf already: from now on it is gone for good.
    shipped: becomes('shipped'),
  },
  // Ignored: a cancellation or expiry (the goods left with the parcel: they cannot come back from
  // here), another order.placed, an order.rejected.
  shipped: {
    // Cash on delivery collected after shipping, or the payment announced again.
    paid: becomes('shipped'),
    // order.shipped again; or the first one of a hold committed before holds kept their lines
    // (migration 0002 made those shipped, since what they took cannot be given back).
    shipped: becomes('shipped'),
  },
  // Ignored: a second cancellation, and order.shipped: a cancelled order does not ship, and if one
  // did its goods are back on the shelf, which someone has to look at.
  restocked: {
    // The payment that committed the hold, announced again: payment refunds it, nothing moves here.
    paid: becomes('restocked'),
  },
}

/** What `input` does to a hold in `state`; undefined when it no longer applies. */
export const transition = (state: TableState, input: HoldInput): HoldTransition | undefined =>
  table[state][input]

/**
 * The input each order and payment event is (order.placed's depends on its lines: see holdInputs).
 * order.expired is a cancellation: it ends an order that will never ship, as order.cancelled does.
 * order.delivered is not consumed: by then the hold is shipped, and delivery changes nothing here.
 */
export const inputOf = {
  'order.cancelled': 'cancelled',
  'order.expired': 'cancelled',
  'order.rejected': 'rejected',
  'payment.succeeded': 'paid',
  'order.paid': 'paid',
  'order.shipped': 'shipped',
} as const satisfies Partial<Record<EventType, HoldInput>>
