// The AsyncAPI 3 description of every event, built from the catalog: the catalog stays the one
// source of truth, docs/events/asyncapi.json is only its rendering (`bun run docs:events`).
import { catalog, dlqTopic, type EventType, type Topic, topics } from './catalog.ts'
import { dlqHeaderDescriptions, dlqHeaders } from './dead-letter.ts'
import { EnvelopeSchema } from './envelope.ts'

type Json = Record<string, unknown>

/** A consumer the platform runs inside every service, named for what it is ("auth layer"). */
export interface PlatformConsumer {
  name: string
  consumes: readonly EventType[]
}

/** Who reads each topic, with what for when DESIGN.md says (its "Events" table, consumers column). */
const consumers: Record<Topic, Record<string, string>> = {
  'user.events': {
    notification: 'recipient directory; user.sessions_revoked',
    order: 'user.sessions_revoked (auth layer)',
    payment: 'user.sessions_revoked (auth layer)',
    product: 'user.sessions_revoked (auth layer)',
    inventory: 'user.sessions_revoked (auth layer)',
    user: 'user.sessions_revoked (auth layer)',
  },
  'product.events': { order: 'catalog read model', inventory: 'stock item', notification: '' },
  'inventory.events': {
    order: 'status',
    product: 'stock status read model',
    notification: 'admin: low stock',
  },
  'order.events': { inventory: '', payment: 'order read model: owner, total, status', notification: '' },
  'payment.events': { order: '', notification: '' },
}

/** TypeBox schemas are JSON Schema plus symbol keys; a JSON round trip drops the symbols. */
const jsonSchema = (schema: unknown): Json => JSON.parse(JSON.stringify(schema))

/** The part of a topic name before `.events`: the service that produces it. */
const producerOf = (topic: Topic): string => topic.slice(0, -'.events'.length)

const description = `Every event of the Mart marketplace, generated from the TypeBox catalog
(shared/src/events/catalog.ts) by \`bun run docs:events\`: do not edit by hand.

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

/** The AsyncAPI 3.0.0 document of every topic, event type, producer and consumer. */
export function asyncApiDocument(): object {
  const types = Object.keys(catalog) as EventType[]
  const on = (topic: Topic) => types.filter((t) => catalog[t].topic === topic)
  const refs = (topic: Topic) => on(topic).map((t) => ({ $ref: `#/channels/${topic}/messages/${t}` }))
  const channels: Json = {}
  const operations: Json = {}

  for (const topic of topics) {
    channels[topic] = {
      address: topic,
      title: topic,
      description: `Events produced by the ${producerOf(topic)} service.`,
      messages: Object.fromEntries(on(topic).map((t) => [t, { $ref: `#/components/messages/${t}` }])),
    }
    const dlq = dlqTopic(topic)
    channels[dlq] = {
      address: dlq,
      title: dlq,
      description: `Dead letters of ${topic}; \`bun run dlq list|redrive ${topic}\` reads and replays them.`,
      messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
    }
    const producer = producerOf(topic)
    operations[`${producer}.send.${topic}`] = {
      action: 'send',
      title: `${producer} publishes ${topic}`,
      channel: { $ref: `#/channels/${topic}` },
      messages: refs(topic),
    }
    for (const [service, purpose] of Object.entries(consumers[topic])) {
      operations[`${service}.receive.${topic}`] = {
        action: 'receive',
        title: `${service} consumes ${topic}`,
        ...(purpose && { summary: purpose }),
        channel: { $ref: `#/channels/${topic}` },
        messages: refs(topic),
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
