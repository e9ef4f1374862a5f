import { describe, expect, test } from 'bun:test'
import {
  endStates,
  isEnded,
  type OrderInput,
  type OrderStatus,
  orderInputs,
  orderStatuses,
  paymentStates,
  transition,
} from '../src/transitions.ts'

// The whole table, one line per state: `input: to [event] [payment] [stops expiry]`; an input not
// listed is ignored. Written out so a change to the table is a change here too, read side by side.
const expected: Record<OrderStatus, Record<string, string>> = {
  pending: {
    reserved: 'unpaid order.awaiting_payment',
    stock_rejected: 'rejected order.rejected stop',
    cod_selected: 'confirmed order.confirmed payment=pending stop',
    payment_succeeded: 'paid order.paid payment=paid stop',
    cancel_by_user: 'cancelled order.cancelled stop',
    cancel_by_admin: 'cancelled order.cancelled stop',
    expire: 'expired order.expired',
  },
  unpaid: {
    cod_selected: 'confirmed order.confirmed payment=pending stop',
    payment_succeeded: 'paid order.paid payment=paid stop',
    cancel_by_user: 'cancelled order.cancelled stop',
    cancel_by_admin: 'cancelled order.cancelled stop',
    expire: 'expired order.expired',
  },
  confirmed: {
    stock_rejected: 'rejected order.rejected',
    payment_succeeded: 'confirmed order.paid payment=paid',
    refunded: 'confirmed payment=refunded',
    cancel_by_user: 'cancelled order.cancelled stop',
    cancel_by_admin: 'cancelled order.cancelled stop',
    ship: 'shipped order.shipped',
  },
  paid: {
    stock_rejected: 'rejected order.rejected',
    refunded: 'paid payment=refunded',
    cancel_by_admin: 'cancelled order.cancelled stop',
    ship: 'shipped order.shipped',
  },
  shipped: {
    payment_succeeded: 'shipped order.paid payment=paid',
    refunded: 'shipped payment=refunded',
    deliver: 'delivered order.delivered',
  },
  delivered: {
    payment_succeeded: 'delivered order.paid payment=paid',
    refunded: 'delivered payment=refunded',
  },
  rejected: { payment_succeeded: 'rejected payment=paid', refunded: 'rejected payment=refunded' },
  cancelled: { payment_succeeded: 'cancelled payment=paid', refunded: 'cancelled payment=refunded' },
  expired: { payment_succeeded: 'expired payment=paid', refunded: 'expired payment=refunded' },
}

const spelled = (state: OrderStatus, input: OrderInput): string | undefined => {
  const m = transition(state, input)
  if (!m) return undefined
  return [m.to, m.emit, m.payment && `payment=${m.payment}`, m.stopsExpiry && 'stop']
    .filter(Boolean)
    .join(' ')
}

const pairs = orderStatuses.flatMap((s) => orderInputs.map((i) => [s, i] as const))

describe('the order transition table', () => {
  test.each(pairs)('%s x %s', (state, input) => {
    expect(spelled(state, input)).toBe(expected[state][input])
  })

  test('an ended order never leaves its state: money is only recorded', () => {
    for (const s of endStates) {
      for (const i of orderInputs) {
        const m = transition(s, i)
        if (m)
          expect({ to: m.to, emit: m.emit === 'order.paid' ? undefined : m.emit }).toEqual({
            to: s,
            emit: undefined,
          })
      }
    }
  })

  test('a customer can cancel only before payment; an admin until the parcel leaves', () => {
    const cancellable = (input: OrderInput) =>
      orderStatuses.filter((s) => transition(s, input)?.to === 'cancelled')
    expect(cancellable('cancel_by_user')).toEqual(['pending', 'unpaid', 'confirmed'])
    expect(cancellable('cancel_by_admin')).toEqual(['pending', 'unpaid', 'confirmed', 'paid'])
  })

  test('only pending and unpaid orders expire, and every move out of them to a live state stops the expiry', () => {
    expect(orderStatuses.filter((s) => transition(s, 'expire'))).toEqual(['pending', 'unpaid'])
    for (const s of ['pending', 'unpaid'] as const) {
      for (const i of orderInputs) {
        const m = transition(s, i)
        if (m && m.to !== s && m.to !== 'unpaid' && !isEnded(m.to)) expect(m.stopsExpiry).toBe(true)
      }
    }
  })

  test('the payment field only ever names a known state', () => {
    for (const [s, i] of pairs) {
      const p = transition(s, i)?.payment
      if (p) expect(paymentStates).toContain(p)
    }
  })
})
