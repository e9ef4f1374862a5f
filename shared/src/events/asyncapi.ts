// The AsyncAPI 3 description of every event, built from the catalog and from what each service
// declares it publishes and consumes: those stay the one source of truth, docs/events/asyncapi.json
// is only their rendering (`bun run docs:events`).
import { catalog, dlqTopic, type EventType, type Topic, topics } from './catalog.ts'
import { dlqHeaderDescriptions, dlqHeaders } from './dead-letter.ts'
import { EnvelopeSchema } from './envelope.ts'

type Json = Record<string, unknown>

/** What the document needs of a service: its name, the topics it publishes, the events it consumes. */
export interface EventParticipant {
  name: string
  publishes: readonly Topic[]
  consumes: readonly EventType[]
}

/** A consumer the platform runs inside every service, named for what it is ("auth layer"). */
export interface PlatformConsumer {
  name: string
  consumes: readonly EventType[]
}

/** TypeBox schemas are JSON Schema plus symbol keys; a JSON round trip drops the symbols. */
const jsonSchema = (schema: unknown): Json => JSON.parse(JSON.stringify(schema))

const description = `Every event of the Mart marketplace, generated from the TypeBox catalog
(shared/src/events/catalog.ts) and the services' definitions (what each publishes and consumes)
by \`bun run docs:events\`: do not edit by hand.

- **Envelope.** Every message value is a JSON envelope \`{ id, type, version, occurredAt, source,
  subject, data, correlationId, causationId }\`; \`type\` and \`version\` name the schema of \`data\`.
  Producers validate it before publishing, consumers on receipt.
- **Key.** The Kafka message key is the envelope's \`subject\`, the aggregate id, so the events of
  one order (or product, user...) stay in order on one partition.
- **Headers.** \`traceparent\` (W3C Trace Context, when the event has a trace), \`content-type\`
  and \`event-type\` (the envelope's \`type\`).
- **Dead letters.** A poison message (not a valid event, or its handler fails past the retry
  budget) is copied to \`<topic>.dlq\` with its key, value and headers, plus
  ${Object.values(dlqHeaders)
    .map((h) => `\`${h}\``)
    .join(', ')}; the partition moves on.`

function eventMessage(type: EventType): Json {
  const def = catalog[type]
  const envelope = jsonSchema(EnvelopeSchema) as Json & { properties: Record<string, Json> }
  return {
    name: type,
    title: type,
    summary: def.description,
    contentType: 'application/json',
    headers: {
      type: 'object',
      required: ['content-type', 'event-type'],
      properties: {
        traceparent: { type: 'string', description: 'W3C Trace Context of the cause, when there is one' },
        'content-type': { type: 'string', const: 'application/json' },
        'event-type': { type: 'string', const: type },
      },
    },
    payload: {
      ...envelope,
      properties: {
        ...envelope.properties,
        type: { ...envelope.properties.type, const: type },
        version: { ...envelope.properties.version, const: def.version },
        data: jsonSchema(def.data),
      },
    },
    bindings: {
      kafka: { key: { type: 'string', description: 'the aggregate id: the envelope subject' } },
    },
  }
}

const deadLetter: Json = {
  name: 'deadLetter',
  title: 'Dead letter',
  summary: 'A message a consumer group gave up on, as it was received, with dlq-* headers added.',
  headers: {
    type: 'object',
    required: Object.values(dlqHeaders),
    properties: Object.fromEntries(
      Object.entries(dlqHeaders).map(([k, h]) => [
        h,
        { type: 'string', description: dlqHeaderDescriptions[k as keyof typeof dlqHeaders] },
      ]),
    ),
    additionalProperties: { type: 'string', description: 'the original headers' },
  },
  payload: { description: 'the original value, unchanged: not necessarily JSON, nor a valid event' },
}

const OWN = 'own handler'

/**
 * What one service receives of each topic: per event type, who in the service reads it (its own
 * handlers, and the platform's consumers).
 */
function receivedBy(service: EventParticipant, platform: readonly PlatformConsumer[]) {
  const readers = new Map<EventType, string[]>()
  const add = (type: EventType, reader: string) => readers.set(type, [...(readers.get(type) ?? []), reader])
  for (const type of new Set(service.consumes)) add(type, OWN)
  for (const consumer of platform) for (const type of consumer.consumes) add(type, consumer.name)
  return (topic: Topic) => [...readers].filter(([type]) => catalog[type].topic === topic)
}

/** "order.placed, user.sessions_revoked (auth layer)": what a service's own handlers read goes plain. */
const summaryOf = (received: [EventType, string[]][]) =>
  received
    .map(([type, readers]) =>
      readers.length === 1 && readers[0] === OWN ? type : `${type} (${readers.join(', ')})`,
    )
    .join(', ')

const serviceNames = (names: string[]) => `${names.join(' and ')} service${names.length > 1 ? 's' : ''}`

/**
 * The AsyncAPI 3.0.0 document of every topic and event type, with the producers and consumers
 * `services` declare; `platform` names what the platform consumes in every service besides.
 */
export function asyncApiDocument(
  services: readonly EventParticipant[],
  platform: readonly PlatformConsumer[],
): object {
  const types = Object.keys(catalog) as EventType[]
  const on = (topic: Topic) => types.filter((t) => catalog[t].topic === topic)
  const ref = (topic: Topic, type: EventType) => ({ $ref: `#/channels/${topic}/messages/${type}` })
  const receiving = services.map((s) => ({ name: s.name, on: receivedBy(s, platform) }))
  const channels: Json = {}
  const operations: Json = {}

  for (const topic of topics) {
    const producers = services.filter((s) => s.publishes.includes(topic)).map((s) => s.name)
    channels[topic] = {
      address: topic,
      title: topic,
      description: producers.length
        ? `Published by the ${serviceNames(producers)}.`
        : 'No service publishes it yet: its event types are in the catalog ahead of their producer.',
      messages: Object.fromEntries(on(topic).map((t) => [t, { $ref: `#/components/messages/${t}` }])),
    }
    const dlq = dlqTopic(topic)
    channels[dlq] = {
      address: dlq,
      title: dlq,
      description: `Dead letters of ${topic}; \`bun run dlq list|redrive ${topic}\` reads and replays them.`,
      messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
    }
    for (const producer of producers) {
      operations[`${producer}.send.${topic}`] = {
        action: 'send',
        title: `${producer} publishes ${topic}`,
        channel: { $ref: `#/channels/${topic}` },
        messages: on(topic).map((t) => ref(topic, t)),
      }
    }
    for (const service of receiving) {
      // In catalog order, whatever order the service declares them in.
      const received = service.on(topic).sort(([a], [b]) => types.indexOf(a) - types.indexOf(b))
      if (!received.length) continue
      operations[`${service.name}.receive.${topic}`] = {
        action: 'receive',
        title: `${service.name} consumes ${topic}`,
        summary: summaryOf(received),
        channel: { $ref: `#/channels/${topic}` },
        messages: received.map(([t]) => ref(topic, t)),
      }
    }
  }

  return {
    asyncapi: '3.0.0',
    info: { title: 'Mart events', version: '1', description },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      messages: { ...Object.fromEntries(types.map((t) => [t, eventMessage(t)])), deadLetter },
    },
  }
}
