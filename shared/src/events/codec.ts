import type { TSchema } from '@sinclair/typebox'
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler'
import { type Catalog, catalog, type EventData, type EventType, isEventType } from './catalog.ts'
import { EnvelopeSchema, type EventContext, type RawEnvelope } from './envelope.ts'

/** A validated event of type T: the envelope with its data typed from the catalog. */
export type Event<T extends EventType = EventType> = {
  [K in T]: Omit<RawEnvelope, 'type' | 'data'> & { type: K; data: EventData<K> }
}[T]

export interface Violation {
  path: string
  message: string
}

/** An event that does not match its schema; never retried, it goes to the dead-letter topic. */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError'
  constructor(
    message: string,
    readonly violations: Violation[] = [],
  ) {
    super(
      violations.length
        ? `${message}: ${violations.map((v) => `${v.path || '/'} ${v.message}`).join('; ')}`
        : message,
    )
  }
}

// Compiled once at load: validation on the hot path is a plain function call.
const envelopeCheck = TypeCompiler.Compile(EnvelopeSchema)
const dataChecks = Object.fromEntries(
  Object.entries(catalog).map(([type, def]) => [type, TypeCompiler.Compile(def.data as TSchema)]),
) as { [T in EventType]: TypeCheck<Catalog[T]['data']> }

function violations(check: TypeCheck<TSchema>, value: unknown, prefix = ''): Violation[] {
  // The offending value is left out on purpose: it may hold personal data.
  return [...check.Errors(value)].slice(0, 10).map((e) => ({ path: prefix + e.path, message: e.message }))
}

export interface NewEvent<T extends EventType> {
  type: T
  data: EventData<T>
  subject: string
  source: string
  /** Absent when this event starts a conversation: it then correlates with itself. */
  correlationId?: string | undefined
  causationId?: string | null | undefined
}

/** Builds and validates an envelope; throws EventValidationError when `data` breaks the schema. */
export function createEvent<T extends EventType>(e: NewEvent<T>): Event<T> {
  const check = dataChecks[e.type] as TypeCheck<TSchema>
  if (!check.Check(e.data)) {
    throw new EventValidationError(`invalid ${e.type} data`, violations(check, e.data, '/data'))
  }
  const id = Bun.randomUUIDv7()
  const event = {
    id,
    type: e.type,
    version: catalog[e.type].version,
    occurredAt: new Date().toISOString(),
    source: e.source,
    subject: e.subject,
    data: e.data,
    correlationId: e.correlationId || id,
    causationId: e.causationId ?? null,
  }
  if (!envelopeCheck.Check(event)) {
    throw new EventValidationError(`invalid ${e.type} envelope`, violations(envelopeCheck, event))
  }
  return event as Event<T>
}

export const encodeEvent = <T extends EventType>(event: Event<T>): string => JSON.stringify(event)

/** The headers an event travels with on its topic (W3C `traceparent` when it has one). */
export function eventHeaders(type: EventType, traceparent?: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'event-type': type }
  if (traceparent) headers.traceparent = traceparent
  return headers
}

/** Parses a message value; throws EventValidationError when it is not JSON. */
export function parseMessage(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    throw new EventValidationError('message is not JSON')
  }
}

/**
 * Checks a parsed message: a well-formed envelope of a known type and version with valid data.
 * Returns it typed, or throws EventValidationError.
 */
export function validateEvent(parsed: unknown): Event {
  if (!envelopeCheck.Check(parsed)) {
    throw new EventValidationError('invalid envelope', violations(envelopeCheck, parsed))
  }
  if (!isEventType(parsed.type)) throw new EventValidationError(`unknown event type ${parsed.type}`)
  const def = catalog[parsed.type]
  if (parsed.version !== def.version) {
    throw new EventValidationError(`unsupported version ${parsed.version} of ${parsed.type}`)
  }
  const check = dataChecks[parsed.type] as TypeCheck<TSchema>
  if (!check.Check(parsed.data)) {
    throw new EventValidationError(`invalid ${parsed.type} data`, violations(check, parsed.data, '/data'))
  }
  return parsed as Event
}

export const decodeEvent = (value: string): Event => validateEvent(parseMessage(value))

/** The context for events caused by `event`: same conversation, `event` as the cause. */
export const causedBy = (event: Event, traceparent?: string): EventContext => ({
  correlationId: event.correlationId,
  causationId: event.id,
  traceparent,
})
