// Every literal list is declared once (events/enums.ts); the catalog accepts exactly its values.
import { describe, expect, test } from 'bun:test'
import {
  createEvent,
  type EventData,
  type EventType,
  paymentMethods,
  roles,
  sessionRevocationReasons,
  stockItemStatuses,
  stockRejectionReasons,
  stockStatuses,
} from '../src/events/index.ts'
import { sampleOrderRef, samplePayment, sampleStock } from '../src/samples.ts'

/** Whether the catalog takes `data` as the data of `type`. */
function accepts<T extends EventType>(type: T, data: EventData<T>): boolean {
  try {
    createEvent({ type, data, subject: 's', source: 'test' })
    return true
  } catch {
    return false
  }
}

/** Each value of `list` is accepted where `make` puts it, and a value outside it is not. */
function acceptsExactly(list: readonly string[], accepted: (value: string) => boolean) {
  expect(list.map((v) => [v, accepted(v)])).toEqual(list.map((v) => [v, true]))
  expect(accepted('something_else')).toBe(false)
}

const user = (role: string): EventData<'user.registered'> =>
  ({ id: 'u', username: 'ada', email: 'ada@example.com', role, disabled: false }) as never

describe('enum lists, declared once and used by the catalog', () => {
  test('stock.adjusted carries a stock status', () => {
    acceptsExactly(stockStatuses, (status) =>
      accepts('stock.adjusted', sampleStock('p', { status } as never)),
    )
  })

  test("a stock item's status is a stock status or discontinued, which no event carries", () => {
    expect(stockItemStatuses).toEqual([...stockStatuses, 'discontinued'])
    expect(accepts('stock.adjusted', sampleStock('p', { status: 'discontinued' } as never))).toBe(false)
  })

  test('stock.rejected and order.rejected give a rejection reason per line', () => {
    const reasons = (reason: string) => [{ productId: 'p', reason, requested: 1, available: 0 }] as never
    acceptsExactly(stockRejectionReasons, (r) =>
      accepts('stock.rejected', { orderId: 'o', reasons: reasons(r) }),
    )
    acceptsExactly(stockRejectionReasons, (r) =>
      accepts('order.rejected', { ...sampleOrderRef('o'), reasons: reasons(r) }),
    )
  })

  test('user events carry a role', () => {
    acceptsExactly(roles, (role) => accepts('user.registered', user(role)))
  })

  test('payment events carry a payment method', () => {
    acceptsExactly(paymentMethods, (method) =>
      accepts('payment.succeeded', { ...samplePayment('o'), method } as never),
    )
  })

  test('user.sessions_revoked says why', () => {
    const at = new Date().toISOString()
    acceptsExactly(sessionRevocationReasons, (reason) =>
      accepts('user.sessions_revoked', { userId: 'u', notBefore: at, expiresAt: at, reason } as never),
    )
  })
})
