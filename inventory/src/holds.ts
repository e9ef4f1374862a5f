/**
 * Where an order stands with inventory. `reserved` holds stock; `rejected`, `released` and
 * `committed` are final; `paid` is a payment seen before its order.placed.
 */
export const holdStates = ['reserved', 'rejected', 'released', 'committed', 'paid'] as const
export type HoldState = (typeof holdStates)[number]
