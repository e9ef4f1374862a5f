// The data of each event the order service emits, from its rows: one place that knows the catalog's
// shapes, so placing and the saga announce an order the same way.
import type { EventData, Role } from '@mart/shared'
import type { MovedEventType } from './transitions.ts'
import { type LineRow, type OrderRow, orderNumber } from './view.ts'

export const refOf = (o: OrderRow) => ({ orderId: o.id, userId: o.userId, number: orderNumber(o.number) })

export const pricedLines = (o: OrderRow, lines: LineRow[]) =>
  lines.map((l) => ({
    productId: l.productId,
    name: l.name,
    quantity: l.quantity,
    unitPrice: { amount: l.unitAmount, currency: o.currency },
  }))

export const placedData = (o: OrderRow, lines: LineRow[]): EventData<'order.placed'> => ({
  ...refOf(o),
  lines: pricedLines(o, lines),
  total: { amount: o.totalAmount, currency: o.currency },
})

/** What a move's event needs beyond the order itself. */
export interface MoveDetails {
  lines: LineRow[]
  rejections?: EventData<'order.rejected'>['reasons']
  cancellation?: { by: Role; actorId: string; reason: string; refundDue: boolean }
  paymentId?: string
}

/** The data of `type` for the order as it is after the move (`o` is the updated row). */
export function movedData(type: MovedEventType, o: OrderRow, d: MoveDetails): EventData<MovedEventType> {
  const ref = refOf(o)
  switch (type) {
    case 'order.awaiting_payment':
      return {
        ...placedData(o, d.lines),
        expiresAt: new Date(o.expiresAt ?? o.updatedAt).toISOString(),
      }
    case 'order.rejected':
      return { ...ref, reasons: d.rejections ?? [] }
    case 'order.cancelled':
      if (!d.cancellation) throw new Error('order.cancelled needs who cancelled')
      return { ...ref, ...d.cancellation }
    case 'order.paid':
      if (!d.paymentId) throw new Error('order.paid needs the payment id')
      return { ...ref, paymentId: d.paymentId }
    default:
      return ref
  }
}
