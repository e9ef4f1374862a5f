// Every notice the service sends: one file each, listed here (grouped by trigger, the customer's first).
import adminCodOrder from './admin-cod-order.ts'
import adminLowStock from './admin-low-stock.ts'
import adminNewOrder from './admin-new-order.ts'
import adminOrderCancelled from './admin-order-cancelled.ts'
import adminOrderPaid from './admin-order-paid.ts'
import adminPaymentRefunded from './admin-payment-refunded.ts'
import adminPaymentReview from './admin-payment-review.ts'
import codConfirmed from './cod-confirmed.ts'
import type { AnyNotice } from './notice.ts'
import orderCancelled from './order-cancelled.ts'
import orderDelivered from './order-delivered.ts'
import orderExpired from './order-expired.ts'
import orderReceived from './order-received.ts'
import orderRejected from './order-rejected.ts'
import orderReserved from './order-reserved.ts'
import orderShipped from './order-shipped.ts'
import paymentFailed from './payment-failed.ts'
import paymentReceived from './payment-received.ts'
import paymentRefunded from './payment-refunded.ts'
import welcome from './welcome.ts'

export const notices: AnyNotice[] = [
  welcome,
  orderReceived,
  adminNewOrder,
  orderReserved,
  orderRejected,
  orderCancelled,
  adminOrderCancelled,
  orderExpired,
  paymentReceived,
  adminOrderPaid,
  paymentFailed,
  paymentRefunded,
  adminPaymentRefunded,
  adminPaymentReview,
  codConfirmed,
  adminCodOrder,
  orderShipped,
  orderDelivered,
  adminLowStock,
]
