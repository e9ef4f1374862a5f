// Every notice the service sends: one file each, listed here.
import adminNewOrder from './admin-new-order.ts'
import type { AnyNotice } from './notice.ts'
import orderReceived from './order-received.ts'
import welcome from './welcome.ts'

export const notices: AnyNotice[] = [welcome, orderReceived, adminNewOrder]
