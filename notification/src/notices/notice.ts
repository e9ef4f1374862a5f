// What a notice is: the event that triggers it, who gets it, its category and its words. Each
// notice is one file in this folder (DESIGN.md "Code shape"), so "what do we send when an order is
// paid" is one file.
import type { EventData, EventType } from '@mart/shared'
import type { Category } from '../categories.ts'

export interface OrderInfo {
  id: string
  userId: string
  number: string
  totalAmount: number
  currency: string
  lines: {
    productId: string
    name: string
    quantity: number
    unitPrice: { amount: number; currency: string }
  }[]
}

/** What a notice may look up while it is written. */
export interface NoticeContext {
  /** Where links point (the gateway). */
  publicUrl: string
  /** The order as notices know it, from order.events (undefined if it was never announced). */
  order(orderId: string): OrderInfo | undefined
  /** A product's name, from product.events. */
  productName(productId: string): string | undefined
}

/** One message: the in-app title and body, and the email's subject, text and HTML parts. */
export interface Message {
  title: string
  text: string
  html: string
}

export interface Notice<T extends EventType = EventType> {
  /** Stable: part of every delivery's identity and Message-ID. */
  name: string
  trigger: T
  category: Category
  /** The customer the event is about (`user`), or every admin and ADMIN_NOTIFY_EMAILS (`admins`). */
  audience: 'user' | 'admins'
  /** The customer, for a `user` notice (by default the event's `userId`). */
  userOf?: (data: EventData<T>, ctx: NoticeContext) => string | undefined
  /** Whether this event calls for the notice at all (a refund notice only when money was due...). */
  when?: (data: EventData<T>, ctx: NoticeContext) => boolean
  /** What the notification is about, for a client to link to (an order id). */
  about?: (data: EventData<T>) => string | undefined
  write(data: EventData<T>, to: { username: string }, ctx: NoticeContext): Message
}

// biome-ignore lint/suspicious/noExplicitAny: a list of notices of every trigger
export type AnyNotice = Notice<any>

export const defineNotice = <T extends EventType>(n: Notice<T>): Notice<T> => n
