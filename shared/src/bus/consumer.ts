import type { Logger } from 'pino'
import { recordInbox } from '../db/inbox.ts'
import type { Schema, Store } from '../db/open.ts'
import { type Tx, tx } from '../db/outbox.ts'
import {
  catalog,
  causedBy,
  dlqHeaders,
  dlqTopic,
  type Event,
  type EventContext,
  type EventType,
  EventValidationError,
  parseMessage,
  validateEvent,
} from '../events/index.ts'
import { errorFields, errorMessage } from '../log.ts'
import { type Backoff, backoffDelay, sleep } from '../retry.ts'
import { childTraceparent, inTrace, traceIdOf } from '../trace.ts'
import type { Bus, Delivery, Subscription } from './types.ts'

/** Applies one event inside the transaction that also records it in the inbox. Must not await. */
export type Handler<S extends Schema, T extends EventType> = (event: Event<T>, t: Tx<S>) => void
export type Handlers<S extends Schema> = { [T in EventType]?: Handler<S, T> }

/** Thrown by a handler when retrying cannot help (the event contradicts the service's state). */
export class PermanentError extends Error {
  override readonly name = 'PermanentError'
}

export interface RetryPolicy {
  /** Attempts before a failing event goes to the dead-letter topic. */
  attempts: number
  backoff: Backoff
}

// About 3 s of retries in all: long enough for a busy database, short enough to stay in the group.
export const defaultRetry: RetryPolicy = { attempts: 5, backoff: { initialMs: 100, maxMs: 2000 } }

export interface ConsumeOptions<S extends Schema> {
  bus: Bus
  store: Store<S>
  /** The consumer group, and the inbox's name for this consumer. */
  group: string
  handlers: Handlers<S>
  log: Logger
  retry?: RetryPolicy
  /** Told of each message this consumer dead-lettered, by its topic (for the metrics). */
  onDeadLetter?: (topic: string) => void
}

/** Several sets of handlers as one: where two handle the same type, both run, in the order given. */
export function combineHandlers<S extends Schema>(...sets: Handlers<S>[]): Handlers<S> {
  const byType = new Map<string, Handler<S, EventType>[]>()
  for (const set of sets) {
    for (const [type, handler] of Object.entries(set)) {
      byType.set(type, [...(byType.get(type) ?? []), handler as Handler<S, EventType>])
    }
  }
  const combined: Record<string, Handler<S, EventType>> = {}
  for (const [type, hs] of byType) {
    combined[type] = (event, t) => {
      for (const h of hs) h(event, t)
    }
  }
  return combined as Handlers<S>
}

/** The topics a set of handlers listens to. */
export const topicsOf = (handlers: Handlers<Schema>): string[] => [
  ...new Set(Object.keys(handlers).map((t) => catalog[t as EventType].topic)),
]

/**
 * Subscribes `handlers` to their topics with the platform's guarantees: every message is validated;
 * each event is applied at most once per group (inbox, same transaction as its effects); a throwing
 * handler is retried with backoff; an invalid message, or one that fails past the retry budget,
 * goes to `<topic>.dlq` and the partition moves on.
 */
export function consume<S extends Schema>(opts: ConsumeOptions<S>): Promise<Subscription> {
  const retry = opts.retry ?? defaultRetry
  const { bus, store, group, handlers } = opts
  const log = opts.log.child({ group })

  /** Events whose handler threw in a batch, until `handle` takes them one by one. */
  const failedInBatch = new Map<string, { error: unknown }>()

  async function deadLetter(d: Delivery, err: unknown, reason: 'invalid' | 'failed', attempts: number) {
    const message = errorMessage(err)
    await bus.publish([
      {
        topic: dlqTopic(d.topic),
        key: d.key,
        value: d.value,
        headers: {
          ...d.headers,
          [dlqHeaders.error]: message,
          [dlqHeaders.reason]: reason,
          [dlqHeaders.group]: group,
          [dlqHeaders.topic]: d.topic,
          [dlqHeaders.partition]: String(d.partition),
          [dlqHeaders.offset]: d.offset,
          [dlqHeaders.attempts]: String(attempts),
          [dlqHeaders.failedAt]: new Date().toISOString(),
        },
      },
    ])
    log.error(
      {
        topic: d.topic,
        partition: d.partition,
        offset: d.offset,
        traceId: traceIdOf(d.headers.traceparent),
        reason,
        attempts,
        error: message,
      },
      'message dead-lettered',
    )
    opts.onDeadLetter?.(d.topic)
  }

  async function handle(d: Delivery): Promise<void> {
    let event: Event
    try {
      const parsed = parseMessage(d.value)
      // Events of types this group does not handle pass by untouched (another group's business).
      const type = (parsed as { type?: unknown } | null)?.type
      if (typeof type === 'string' && !Object.hasOwn(handlers, type)) return
      event = validateEvent(parsed)
    } catch (err) {
      return deadLetter(d, err, 'invalid', 0)
    }
    const handler = handlers[event.type] as Handler<S, EventType>
    // Its log lines and what it stages carry the trace that caused it.
    const traceId = traceIdOf(d.headers.traceparent)
    const about = { eventId: event.id, type: event.type, correlationId: event.correlationId, traceId }
    // A handler that threw in a batch used its first attempt there: the retries go on from it.
    const inBatch = failedInBatch.get(event.id)
    failedInBatch.delete(event.id)
    let attempt = 1
    if (inBatch) {
      const permanent =
        inBatch.error instanceof PermanentError || inBatch.error instanceof EventValidationError
      if (permanent || retry.attempts <= 1) return deadLetter(d, inBatch.error, 'failed', 1)
      log.warn({ ...about, attempt, ...errorFields(inBatch.error) }, 'handler failed; retrying')
      await sleep(backoffDelay(attempt, retry.backoff))
      await d.heartbeat()
      attempt = 2
    }
    for (; ; attempt++) {
      try {
        const applied = inTrace(d.headers.traceparent, () =>
          tx(
            store,
            (t) => {
              if (!recordInbox(store, group, event.id, d.topic)) return false
              handler(event, t)
              return true
            },
            causedBy(event, childTraceparent(d.headers.traceparent)),
          ),
        )
        if (log.isLevelEnabled('debug')) {
          log.debug({ ...about, applied }, applied ? 'event applied' : 'duplicate event skipped')
        }
        return
      } catch (err) {
        const permanent = err instanceof PermanentError || err instanceof EventValidationError
        if (permanent || attempt >= retry.attempts) return deadLetter(d, err, 'failed', attempt)
        log.warn({ ...about, attempt, ...errorFields(err) }, 'handler failed; retrying')
        await sleep(backoffDelay(attempt, retry.backoff))
        await d.heartbeat()
      }
    }
  }

  /**
   * Several waiting messages in one transaction: each recorded in the inbox and applied as `handle`
   * would, its events staged with its own causation and trace. Anything unusual (a message that is
   * not a valid event, a handler that throws) throws, which rolls all of it back: the bus then hands
   * the messages to `handle` one by one, which retries, logs and dead-letters as always.
   */
  async function handleBatch(ds: Delivery[]): Promise<void> {
    const events: { d: Delivery; event: Event }[] = []
    for (const d of ds) {
      const parsed = parseMessage(d.value)
      const type = (parsed as { type?: unknown } | null)?.type
      if (typeof type === 'string' && !Object.hasOwn(handlers, type)) continue
      events.push({ d, event: validateEvent(parsed) })
    }
    if (events.length === 0) return
    // Read by the transaction when an event is staged: set to each message's before its handler runs.
    const context: Partial<EventContext> = {}
    const applied = tx(
      store,
      (t) =>
        events.map(({ d, event }) => {
          if (!recordInbox(store, group, event.id, d.topic)) return false
          const traceparent = d.headers.traceparent
          Object.assign(context, causedBy(event, childTraceparent(traceparent)))
          const own: Tx<S> = { ...t, afterCommit: (fn) => t.afterCommit(() => inTrace(traceparent, fn)) }
          try {
            inTrace(traceparent, () => (handlers[event.type] as Handler<S, EventType>)(event, own))
          } catch (error) {
            failedInBatch.set(event.id, { error })
            throw error
          }
          return true
        }),
      context,
    )
    if (log.isLevelEnabled('debug')) {
      events.forEach(({ d, event }, i) => {
        const about = { eventId: event.id, type: event.type, traceId: traceIdOf(d.headers.traceparent) }
        log.debug({ ...about, applied: applied[i] }, applied[i] ? 'event applied' : 'duplicate event skipped')
      })
    }
  }

  return bus.subscribe({ group, topics: topicsOf(handlers as Handlers<Schema>), handle, handleBatch })
}
