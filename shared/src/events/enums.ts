// Every list of literal values that more than one place names: the catalog's and HTTP schemas,
// drizzle column enums and CHECK constraints derive from these, so a new value is added once.
import { type SchemaOptions, type TLiteral, type TUnion, Type } from '@sinclair/typebox'

/** How a product's availability stands, as stock events tell it. */
export const stockStatuses = ['in_stock', 'low_stock', 'out_of_stock'] as const
export type StockStatus = (typeof stockStatuses)[number]

/** A stock item's status in inventory: its availability, or no longer sold (no event carries that). */
export const stockItemStatuses = [...stockStatuses, 'discontinued'] as const
export type StockItemStatus = (typeof stockItemStatuses)[number]

/** Why a line of an order could not be reserved. */
export const stockRejectionReasons = ['unknown_product', 'discontinued', 'insufficient_stock'] as const
export type StockRejectionReason = (typeof stockRejectionReasons)[number]

export const roles = ['user', 'admin'] as const
export type Role = (typeof roles)[number]

export const paymentMethods = ['stripe', 'cod'] as const
export type PaymentMethod = (typeof paymentMethods)[number]

/**
 * Why money was given back: an admin asked, the order was cancelled with a refund due, money
 * arrived for an order that had ended or was paid twice, or someone refunded it in Stripe's dashboard.
 */
export const refundReasons = [
  'requested',
  'order_cancelled',
  'order_ended',
  'duplicate',
  'dashboard',
] as const
export type RefundReason = (typeof refundReasons)[number]

/** Why a user's sessions were revoked (user.sessions_revoked). */
export const sessionRevocationReasons = [
  'role_lowered',
  'disabled',
  'deleted',
  'password_changed',
  'logged_out_everywhere',
] as const
export type SessionRevocationReason = (typeof sessionRevocationReasons)[number]

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K] & string> }

/**
 * A TypeBox schema for one of `values`: a union of literals, so a failed check says "must be one
 * of: a, b". Kept a tuple, so Elysia's types see the literals too.
 */
export const LiteralUnion = <const T extends readonly string[]>(
  values: T,
  options?: SchemaOptions,
): TUnion<Literals<T>> =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as TUnion<Literals<T>>
