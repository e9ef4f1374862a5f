// What orders hold on the shelf: order and payment events move an order's hold as the table in
// holds.ts says, and the effects it names are applied here, in the handler's transaction, through
// its handle alone.
import { type EventData, fromExcluded, type Logger, onceFor } from '@mart/shared'
import { asc, eq, sql } from 'drizzle-orm'
import { committedLines, orderHolds, reservations } from './db/schema.ts'
import { type HoldInput, type TableState, transition } from './holds.ts'
import {
  announce,
  availableOf,
  type Changes,
  change,
  type ItemRow,
  itemIn,
  type T,
  track,
  update,
} from './shelf.ts'

export interface Line {
  productId: string
  quantity: number
}
type Rejection = EventData<'stock.rejected'>['reasons'][number]

/** What an order or payment event tells inventory about an order: order.placed brings its lines. */
export type OrderNews = { input: 'placed'; lines: Line[] } | { input: Exclude<HoldInput, `placed${string}`> }

const p = sql.placeholder

/** What an order holds (reservations) or took (committedLines), per product, in product order. */
type OrderLines = typeof reservations | typeof committedLines

const linesStatements = (db: T['db'], table: OrderLines) => ({
  select: db
    .select({ productId: table.productId, quantity: table.quantity })
    .from(table)
    .where(eq(table.orderId, p('orderId')))
    .orderBy(asc(table.productId))
    .prepare(),
  insert: db
    .insert(table)
    .values({
      orderId: p('orderId'),
      productId: p('productId'),
      quantity: p('quantity'),
      createdAt: p('now'),
    })
    .prepare(),
})

/** Prepared once per database: every order event reads and moves its hold. */
const statements = onceFor((db: T['db']) => ({
  hold: db
    .select()
    .from(orderHolds)
    .where(eq(orderHolds.orderId, p('orderId')))
    .prepare(),
  setHold: db
    .insert(orderHolds)
    .values({ orderId: p('orderId'), state: p('state'), updatedAt: p('now') })
    .onConflictDoUpdate({
      target: orderHolds.orderId,
      set: fromExcluded(orderHolds, ['state', 'updatedAt']),
    })
    .prepare(),
  dropReservations: db
    .delete(reservations)
    .where(eq(reservations.orderId, p('orderId')))
    .prepare(),
  reservations: linesStatements(db, reservations),
  committedLines: linesStatements(db, committedLines),
}))
const linesOf = (t: T, table: OrderLines) =>
  table === reservations ? statements(t.db).reservations : statements(t.db).committedLines

// The largest quantity an event line may carry (the catalog's Quantity). Lines of one product are
// summed, so an order could ask for more; it is rejected rather than announced with an invalid event.
const MAX_LINE_QUANTITY = 1_000_000

export class Reservations {
  /** How many events each (state, input) pair has ignored since the service started. */
  private readonly ignored = new Map<string, number>()

  constructor(private readonly log: Logger) {}

  /** Moves the order's hold as holds.ts says for its state and this news, or ignores the news. */
  apply(t: T, orderId: string, news: OrderNews, reason: string): void {
    const held = statements(t.db).hold.get({ orderId })
    const state: TableState = held?.state ?? 'none'
    const order = news.input === 'placed' ? check(t, news.lines) : null
    const input: HoldInput = order ? (order.rejections.length > 0 ? 'placed_short' : 'placed') : news.input
    const move = transition(state, input)
    if (!move) {
      this.ignore(t, { orderId, state, input, event: reason })
      return
    }
    if (move.to === state && move.effects.length === 0) return

    const now = Date.now()
    statements(t.db).setHold.run({ orderId, state: move.to, now })
    const changes: Changes = new Map()
    for (const effect of move.effects) {
      if (effect === 'reserve') reserve(t, orderId, (order as CheckedOrder).lines, changes, now)
      else if (effect === 'reject') {
        const reasons = (order as CheckedOrder).rejections
        t.publish('stock.rejected', { orderId, reasons }, { subject: orderId })
      } else if (effect === 'restock') restock(t, orderId, changes)
      else endHold(t, orderId, effect, changes, now)
    }
    // A restock moves on hand where a release moves reserved: its stock.adjusted says which it was.
    announce(t, changes, move.effects.includes('restock') ? `${reason}: restocked` : reason)
  }

  private ignore(t: T, about: { orderId: string; state: TableState; input: HoldInput; event: string }) {
    // Counted once the event is recorded as handled: an attempt that rolled back ignored nothing.
    t.afterCommit(() => {
      const pair = `${about.state} x ${about.input}`
      const ignored = (this.ignored.get(pair) ?? 0) + 1
      this.ignored.set(pair, ignored)
      this.log.warn({ ...about, ignored }, 'order event ignored: no transition from this hold')
    })
  }
}

/** An order.placed's lines summed per product: those that can be held, and why the others cannot. */
interface CheckedOrder {
  lines: { line: Line; item: ItemRow }[]
  rejections: Rejection[]
}

function check(t: T, lines: Line[]): CheckedOrder {
  const checked: CheckedOrder = { lines: [], rejections: [] }
  for (const line of merge(lines)) {
    const item = itemIn(t.db, line.productId)
    const requested = Math.min(line.quantity, MAX_LINE_QUANTITY)
    const refuse = (reason: Rejection['reason'], available: number) =>
      checked.rejections.push({ productId: line.productId, reason, requested, available })
    if (!item) refuse('unknown_product', 0)
    else if (item.discontinued) refuse('discontinued', 0)
    else if (line.quantity > availableOf(item) || line.quantity > MAX_LINE_QUANTITY)
      refuse('insufficient_stock', availableOf(item))
    else checked.lines.push({ line, item })
  }
  return checked
}

/** Lines of the same product summed, in product order: one reservation row per (order, product). */
function merge(lines: Line[]): Line[] {
  const sums = new Map<string, number>()
  for (const l of lines) sums.set(l.productId, (sums.get(l.productId) ?? 0) + l.quantity)
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => ({ productId, quantity }))
}

/** Holds every line: reserved rises, on hand stays; stock.reserved. */
function reserve(t: T, orderId: string, lines: CheckedOrder['lines'], changes: Changes, now: number) {
  for (const { line, item } of lines) {
    track(changes, item, update(t, line.productId, { reserved: line.quantity }))
  }
  const held = lines.map(({ line }) => line)
  recordLines(t, reservations, orderId, held, now)
  t.publish('stock.reserved', { orderId, lines: held }, { subject: orderId })
}

/**
 * Ends what an order holds: back on the shelf (releaseHold) or off it (shipHold), its lines kept as
 * committed so that a cancellation before the order ships can put them back.
 */
function endHold(t: T, orderId: string, how: 'releaseHold' | 'shipHold', changes: Changes, now: number) {
  const held = linesIn(t, reservations, orderId)
  for (const { productId, quantity } of held) {
    change(
      t,
      changes,
      productId,
      how === 'shipHold' ? { reserved: -quantity, onHand: -quantity } : { reserved: -quantity },
    )
  }
  statements(t.db).dropReservations.run({ orderId })
  if (held.length === 0) return
  if (how === 'shipHold') recordLines(t, committedLines, orderId, held, now)
  const type = how === 'shipHold' ? 'stock.committed' : 'stock.released'
  t.publish(type, { orderId, lines: held }, { subject: orderId })
}

/** Puts back on the shelf what an order took off it (on hand rises); stock.released. */
function restock(t: T, orderId: string, changes: Changes) {
  const taken = linesIn(t, committedLines, orderId)
  for (const { productId, quantity } of taken) {
    change(t, changes, productId, { onHand: quantity })
  }
  if (taken.length > 0) t.publish('stock.released', { orderId, lines: taken }, { subject: orderId })
}

const linesIn = (t: T, table: OrderLines, orderId: string): Line[] =>
  linesOf(t, table).select.all({ orderId })

function recordLines(t: T, table: OrderLines, orderId: string, lines: Line[], now: number): void {
  const { insert } = linesOf(t, table)
  for (const l of lines) insert.run({ orderId, productId: l.productId, quantity: l.quantity, now })
}
