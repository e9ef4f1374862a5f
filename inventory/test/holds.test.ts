// The hold state machine as a pure function, over every (state, input) pair: the states and inputs
// come from the module's own lists, so a new one fails here until this table says what it does.
import { describe, expect, test } from 'bun:test'
import {
  type HoldInput,
  type HoldTransition,
  holdInputs,
  holdStates,
  inputOf,
  type TableState,
  tableStates,
  transition,
} from '../src/holds.ts'

/** A transition as one line: `to: effect, effect`; `ignored` when the pair is not in the table. */
const spell = (t: HoldTransition | undefined) =>
  t ? `${t.to}:${t.effects.map((e) => ` ${e}`).join(',')}` : 'ignored'

// What the service does, written out: rows are states (none = no hold recorded yet), columns inputs.
const expected: Record<TableState, Record<HoldInput, string>> = {
  none: {
    placed: 'reserved: reserve',
    placed_short: 'rejected: reject',
    // Tombstones: nothing is held and the lines are not known yet.
    cancelled: 'released:',
    rejected: 'released:',
    paid: 'paid:',
    // order.shipped follows order.placed on the order's partition: no lines to ship.
    shipped: 'ignored',
  },
  paid: {
    // Paid before inventory saw the order: what is reserved leaves the shelf at once.
    placed: 'committed: reserve, shipHold',
    placed_short: 'rejected: reject',
    // The order ended, and a payment does not revive it: payment refunds it, nothing leaves the shelf.
    cancelled: 'released:',
    rejected: 'released:',
    paid: 'ignored',
    shipped: 'ignored',
  },
  reserved: {
    placed: 'ignored',
    placed_short: 'ignored',
    cancelled: 'released: releaseHold',
    rejected: 'released: releaseHold',
    // Paid: the goods leave the shelf and wait for the parcel; a cancellation can still bring them back.
    paid: 'committed: shipHold',
    // Shipped before paid (cash on delivery): the goods leave, for good.
    shipped: 'shipped: shipHold',
  },
  rejected: {
    placed: 'ignored',
    placed_short: 'ignored',
    cancelled: 'ignored',
    // The order service's answer to our stock.rejected: expected, nothing to do.
    rejected: 'rejected:',
    paid: 'ignored',
    shipped: 'ignored',
  },
  released: {
    // The order was closed before inventory saw it: reserving now would reopen it.
    placed: 'ignored',
    placed_short: 'ignored',
    cancelled: 'ignored',
    rejected: 'ignored',
    paid: 'ignored',
    shipped: 'ignored',
  },
  committed: {
    placed: 'ignored',
    placed_short: 'ignored',
    // Cancelled (an admin, a paid order) or expired (a payment that came too late) before it
    // shipped: the order never will ship, so what it took goes back on the shelf.
    cancelled: 'restocked: restock',
    rejected: 'ignored',
    // payment.succeeded and order.paid both announce the payment: the second finds it committed.
    paid: 'committed:',
    // The parcel left: from now on the goods are gone for good.
    shipped: 'shipped:',
  },
  shipped: {
    placed: 'ignored',
    placed_short: 'ignored',
    // The goods left with the parcel: a cancellation cannot bring them back.
    cancelled: 'ignored',
    rejected: 'ignored',
    // Cash on delivery collected after shipping, or the second announcement of the payment.
    paid: 'shipped:',
    // A hold committed before holds kept their lines (0002) became shipped: its order.shipped finds it so.
    shipped: 'shipped:',
  },
  restocked: {
    placed: 'ignored',
    placed_short: 'ignored',
    cancelled: 'ignored',
    rejected: 'ignored',
    // The payment that committed the hold, announced again: payment refunds it.
    paid: 'restocked:',
    // A cancelled order does not ship; if one did, its goods are back on the shelf: worth a warning.
    shipped: 'ignored',
  },
}

const pairs = tableStates.flatMap((state) => holdInputs.map((input) => [state, input] as const))

describe('the hold transition table', () => {
  test.each(pairs)('%s x %s', (state, input) => {
    expect(spell(transition(state, input))).toBe(expected[state]?.[input] as string)
  })

  test('the states are "none" and every state a hold row can have, each a row above', () => {
    expect(tableStates).toEqual(['none', ...holdStates])
    expect(Object.keys(expected).sort()).toEqual([...tableStates].sort())
  })

  test('stock is held only in `reserved`: what enters it reserves, what leaves it releases or ships', () => {
    for (const [state, input] of pairs) {
      const t = transition(state, input)
      if (!t) continue
      const holds = (s: TableState) => s === 'reserved'
      const effects = new Set(t.effects)
      if (!holds(state) && holds(t.to)) expect(effects).toContain('reserve')
      if (holds(state) && !holds(t.to)) {
        expect(effects.has('releaseHold') || effects.has('shipHold')).toBe(true)
      }
      // Whatever is reserved on the way to a state that holds nothing leaves the shelf at once.
      if (effects.has('reserve') && !holds(t.to)) expect(effects).toContain('shipHold')
    }
  })

  test('goods off the shelf come back only from `committed`, and never once shipped', () => {
    const off = (s: TableState) => s === 'committed' || s === 'shipped'
    for (const [state, input] of pairs) {
      const t = transition(state, input)
      if (!t) continue
      const effects = new Set(t.effects)
      // What reaches committed or shipped from a state with nothing off the shelf ships.
      if (!off(state) && off(t.to)) expect(effects).toContain('shipHold')
      if (effects.has('shipHold')) expect(off(t.to)).toBe(true)
      // A restock is the way out of committed other than the parcel, and only that.
      if (effects.has('restock')) expect([state, t.to]).toEqual(['committed', 'restocked'])
      // Out of committed: the parcel takes what is already off the shelf, a restock brings it back.
      if (state === 'committed' && t.to === 'shipped') expect(t.effects).toEqual([])
      if (state === 'committed' && t.to === 'restocked') expect(t.effects).toEqual(['restock'])
    }
  })

  test('final states only ever stay as they are', () => {
    for (const state of ['rejected', 'released', 'shipped', 'restocked'] as const) {
      for (const input of holdInputs) {
        const t = transition(state, input)
        if (t) expect(t).toEqual({ to: state, effects: [] })
      }
    }
  })

  test('every order and payment event inventory consumes is one input; order.placed is two, by its lines', () => {
    expect(inputOf).toEqual({
      'order.cancelled': 'cancelled',
      'order.expired': 'cancelled',
      'order.rejected': 'rejected',
      'payment.succeeded': 'paid',
      'order.paid': 'paid',
      'order.shipped': 'shipped',
    })
    const used = new Set<HoldInput>([...Object.values(inputOf), 'placed', 'placed_short'])
    expect([...used].sort()).toEqual([...holdInputs].sort())
  })
})
