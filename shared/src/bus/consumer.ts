import type { Logger } from 'pino'
import { recordInbox } from '../db/inbox.ts'
import type { Schema, Store } from '../db/open.ts'
import { type Tx, type TxPart, type TxPartOutcome, txEach } from '../db/outbox.ts'
import {
  catalog,
  causedBy,
  dlqHeaders,
  dlqTopic,
  type Event,
  type EventType,
  EventValidationError,
  parseMessage,
  validateEvent,
} from '../events/index.ts'
import { errorFields, errorMessage } from '../log.ts'
import { type Backoff, backoffDelay, sleep } from '../retry.ts'
import { childTraceparent, traceIdOf } from '../trace.ts'
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

  /** Messages handed over in this turn of the event loop (from several partitions), applied together. */
  let together: { d: Delivery; event: Event; settle: (outcome: TxPartOutcome<boolean>) => void }[] = []

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

  /**
   * The event a message carries, or null for a type this group does not handle (another group's
   * business: it passes by untouched). Throws on a message that is not a valid event.
   */
  function eventOf(d: Delivery): Event | null {
    const parsed = parseMessage(d.value)
    const type = (parsed as { type?: unknown } | null)?.type
    if (typeof type === 'string' && !Object.hasOwn(handlers, type)) return null
    return validateEvent(parsed)
  }

  /** Records the event in the inbox and runs its handler in `t`: false if the group had it already. */
  function apply(t: Tx<S>, d: Delivery, event: Event): boolean {
    if (!recordInbox(store, group, event.id, d.topic)) return false
    ;(handlers[event.type] as Handler<S, EventType>)(event, t)
    return true
  }

  /** Its log lines carry the trace that caused it. */
  const aboutOf = (d: Delivery, event: Event) => ({
    eventId: event.id,
    type: event.type,
    correlationId: event.correlationId,
    traceId: traceIdOf(d.headers.traceparent),
  })

  function logApplied(d: Delivery, event: Event, applied: boolean) {
    if (log.isLevelEnabled('debug')) {
      log.debug({ ...aboutOf(d, event), applied }, applied ? 'event applied' : 'duplicate event skipped')
    }
  }

  /** The message's event as a part of a shared transaction: staged events carry its causation and trace. */
  const partOf = (d: Delivery, event: Event, run = (t: Tx<S>) => apply(t, d, event)): TxPart<S, boolean> => ({
    context: causedBy(event, childTraceparent(d.headers.traceparent)),
    traceparent: d.headers.traceparent,
    run,
  })

  /**
   * Applies the event with those of the other messages handed over in the same turn (partitions
   * deliver one message at a time each, so under load several partitions' messages meet): one
   * transaction for all of them, each in a savepoint, so one that throws is rolled back alone and
   * answered its error, as `tx` alone would have.
   */
  function applyTogether(d: Delivery, event: Event): Promise<boolean> {
    return new Promise((resolve, reject) => {
      together.push({ d, event, settle: (o) => ('error' in o ? reject(o.error) : resolve(o.value)) })
      if (together.length === 1) setImmediate(applyWaiting)
    })
  }

  function applyWaiting(): void {
    const waiting = together
    together = []
    let outcomes: TxPartOutcome<boolean>[]
    try {
      outcomes = txEach(
        store,
        waiting.map(({ d, event }) => partOf(d, event)),
        { isolate: true },
      )
    } catch (error) {
      for (const w of waiting) w.settle({ error })
      return
    }
    waiting.forEach((w, i) => {
      w.settle(outcomes[i] as TxPartOutcome<boolean>)
    })
  }

  async function handle(d: Delivery): Promise<void> {
    let event: Event | null
    try {
      event = eventOf(d)
    } catch (err) {
      return deadLetter(d, err, 'invalid', 0)
    }
    if (!event) return
    const ours = event
    // A handler that threw in a batch used its first attempt there: the retries go on from it.
    let thrownInBatch = failedInBatch.get(event.id)
    failedInBatch.delete(event.id)
    for (let attempt = 1; ; attempt++) {
      try {
        if (thrownInBatch) {
          const { error } = thrownInBatch
          thrownInBatch = undefined
          throw error
        }
        // What it stages carries the trace that caused it. A retry goes alone.
        const applied =
          attempt === 1
            ? await applyTogether(d, ours)
            : (txEach(store, [partOf(d, ours)], { isolate: false })[0] as { value: boolean }).value
        logApplied(d, ours, applied)
        return
      } catch (err) {
        const permanent = err instanceof PermanentError || err instanceof EventValidationError
        if (permanent || attempt >= retry.attempts) return deadLetter(d, err, 'failed', attempt)
        log.warn({ ...aboutOf(d, ours), attempt, ...errorFields(err) }, 'handler failed; retrying')
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
      const event = eventOf(d)
      if (event) events.push({ d, event })
    }
    if (events.length === 0) return
    const outcomes = txEach(
      store,
      events.map(({ d, event }) =>
        partOf(d, event, (t) => {
          try {
            return apply(t, d, event)
          } catch (error) {
            failedInBatch.set(event.id, { error })
            throw error
          }
        }),
      ),
      { isolate: false },
    )
    events.forEach(({ d, event }, i) => {
      logApplied(d, event, (outcomes[i] as { value: boolean }).value)
    })
  }

  return bus.subscribe({ group, topics: topicsOf(handlers as Handlers<Schema>), handle, handleBatch })
}
