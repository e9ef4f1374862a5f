// What customers and admins do to an order over HTTP: cancel, ship, deliver. Each is an input of
// the transition table like any event; a pair the table does not name is refused with the state.
import {
  conflict,
  notFound,
  type Principal,
  requestContext,
  type Store,
  type TraceContext,
  tx,
} from '@mart/shared'
import type * as schema from './db/schema.ts'
import type { Happening, OrderSaga } from './saga.ts'
import type { OrderInput } from './transitions.ts'
import { type OrderRow, type OrderView, orderIn } from './view.ts'

export const NO_ORDER = 'no such order'

/** The owner or an admin; anyone else is told the order does not exist (never 403). */
export const maySee = (user: Principal, order: { userId: string }) =>
  user.role === 'admin' || order.userId === user.id

/** Why a command cannot apply now: the order's state, in words a client can show. */
const refusal: Record<string, string> = {
  cancel: 'only a pending, unpaid or confirmed order can be cancelled (an admin can also cancel a paid one)',
  ship: 'only a paid or confirmed order can be shipped',
  deliver: 'only a shipped order can be delivered',
}

export class Commands {
  constructor(
    private readonly store: Store<typeof schema>,
    private readonly saga: OrderSaga,
  ) {}

  cancel(user: Principal, orderId: string, reason: string | undefined, trace?: TraceContext): OrderView {
    // An admin cancelling their own order acts as an admin: the table decides what the role may.
    const input: OrderInput = user.role === 'admin' ? 'cancel_by_admin' : 'cancel_by_user'
    return this.run(user, orderId, 'cancel', { input, reason: reason ?? '' }, trace)
  }

  ship(admin: Principal, orderId: string, trace?: TraceContext): OrderView {
    return this.run(admin, orderId, 'ship', { input: 'ship' }, trace)
  }

  deliver(admin: Principal, orderId: string, trace?: TraceContext): OrderView {
    return this.run(admin, orderId, 'deliver', { input: 'deliver' }, trace)
  }

  private run(
    user: Principal,
    orderId: string,
    command: keyof typeof refusal,
    what: Pick<Happening, 'input' | 'reason'>,
    trace?: TraceContext,
  ): OrderView {
    return tx(
      this.store,
      (t) => {
        const order: OrderRow | undefined = orderIn(t.db, orderId)
        if (!order || !maySee(user, order)) throw notFound(NO_ORDER)
        const applied = this.saga.apply(t, orderId, {
          ...what,
          type: `order.${command}`,
          source: 'order',
          actor: { id: user.id, role: user.role },
        })
        if (!applied.moved) throw conflict(`the order is ${order.status}: ${refusal[command]}`)
        return applied.view
      },
      requestContext(trace),
    )
  }
}
