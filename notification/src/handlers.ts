import type { Event, EventType, Handler, Handlers } from '@mart/shared'
import type * as schema from './db/schema.ts'
import { rememberOrder, rememberProduct, rememberUser } from './directory.ts'
import type { Notifier, T } from './notify.ts'

/** What each consumed event adds to what notices know, before the notices are written. */
const remember: { [K in EventType]?: (e: Event<K>, t: T) => void } = {
  'user.registered': (e, t) => rememberUser(t, e.data, e.id, false),
  'user.updated': (e, t) => rememberUser(t, e.data, e.id, false),
  'user.deleted': (e, t) => rememberUser(t, e.data, e.id, true),
  'product.created': (e, t) => rememberProduct(t, e.data, e.id),
  'product.updated': (e, t) => rememberProduct(t, e.data, e.id),
  'order.placed': (e, t) => rememberOrder(t, e),
  'order.awaiting_payment': (e, t) => rememberOrder(t, e),
}

/**
 * Every event the service consumes: what it remembers of it, then the notices it triggers, in the
 * transaction that records the event in the inbox.
 */
export function handlers(notifier: Notifier): Handlers<typeof schema> {
  const types = [
    ...new Set([...(Object.keys(remember) as EventType[]), ...(notifier.triggers as EventType[])]),
  ]
  const all: Handlers<typeof schema> = {}
  for (const type of types) {
    const learn = remember[type] as ((e: Event, t: T) => void) | undefined
    ;(all as Record<string, Handler<typeof schema, EventType>>)[type] = (e, t) => {
      learn?.(e, t)
      notifier.notify(t, e)
    }
  }
  return all
}
