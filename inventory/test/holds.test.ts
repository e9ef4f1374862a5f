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
    // A release beats a payment: the payment's own service refunds it.
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
    paid: 'committed: shipHold',
    // Shipped before paid (cash on delivery): the goods leave now.
    shipped: 'committed: shipHold',
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
    // Committed is final: a late cancellation gives nothing back.
    cancelled: 'ignored',
    rejected: 'ignored',
    // payment.succeeded and order.paid both announce the payment: the second finds it committed.
    paid: 'committed:',
    // Whichever of the payment and the shipment comes first ships the hold; the other finds it done.
    shipped: 'committed:',
  },
}

const pairs = tableStates.flatMap((state) => holdInputs.map((input) => [state, input] as const))

describe('the hold transition table', () => {
  test.each(pairs)('%s x %s', (state, input) => {
    expect(spell(transition(state, input))).toBe(expected[state]?.[input] as string)
  })

  test('the states are "none" and every state a hold row can have', () => {
    expect(tableStates).toEqual(['none', ...holdStates])
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

  test('final states only ever stay as they are', () => {
    for (const state of ['rejected', 'released', 'committed'] as const) {
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
