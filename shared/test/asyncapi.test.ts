import { describe, expect, test } from 'bun:test'
import { DiagnosticSeverity, Parser } from '@asyncapi/parser'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import { asyncApiDocument, type EventParticipant } from '../src/events/asyncapi.ts'
import {
  catalog,
  createEvent,
  dlqHeaders,
  dlqTopic,
  type EventData,
  type EventType,
  type Topic,
  topics,
} from '../src/events/index.ts'

interface Ref {
  $ref: string
}
interface Message {
  name: string
  summary: string
  contentType: string
  headers: { properties: Record<string, { const?: unknown }> & object; required: string[] }
  payload: { properties: Record<string, { const?: unknown }> }
}
interface Operation {
  action: 'send' | 'receive'
  channel: Ref
  messages: Ref[]
  summary?: string
}
interface Doc {
  asyncapi: string
  channels: Record<string, { address: string; description: string; messages: Record<string, Ref> }>
  operations: Record<string, Operation>
  components: { messages: Record<string, Message> }
}

// The whole marketplace as DESIGN.md draws it, so that every topic has a producer and readers.
const marketplace: EventParticipant[] = [
  { name: 'user', publishes: ['user.events'], consumes: [] },
  { name: 'product', publishes: ['product.events'], consumes: ['stock.adjusted'] },
  {
    name: 'inventory',
    publishes: ['inventory.events'],
    consumes: ['product.created', 'product.deleted', 'order.placed', 'order.cancelled', 'payment.succeeded'],
  },
  {
    name: 'order',
    publishes: ['order.events'],
    consumes: ['product.created', 'stock.reserved', 'stock.rejected', 'payment.succeeded'],
  },
  { name: 'payment', publishes: ['payment.events'], consumes: ['order.placed', 'order.cancelled'] },
  {
    name: 'notification',
    publishes: [],
    // Its own reading of user.sessions_revoked, beside the auth layer's.
    consumes: ['user.sessions_revoked', 'stock.low', 'user.registered', 'order.paid'],
  },
]
const authLayer = { name: 'auth layer', consumes: ['user.sessions_revoked' as const] }
const doc = asyncApiDocument(marketplace, [authLayer]) as Doc
const types = Object.keys(catalog) as EventType[]
/** The event type a message reference names. */
const nameOf = (ref: Ref): string => ref.$ref.slice(ref.$ref.lastIndexOf('/') + 1)
const resolve = (ref: Ref): unknown =>
  ref.$ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], doc)

// One valid data sample per event type: a type added to the catalog without one does not compile.
const money = { amount: 1999, currency: 'EUR' }
const user = { id: 'u1', username: 'ada', email: 'ada@example.com', role: 'user' as const, disabled: false }
const item = {
  id: 'p1',
  name: 'Lamp',
  description: '',
  price: money,
  sku: null,
  imageUrl: null,
  active: true,
}
const line = { productId: 'p1', quantity: 2 }
const lines = [line]
const order = { orderId: 'o1', userId: 'u1' }
const payment = { paymentId: 'pay1', ...order }
/** What order events name beside the order and its user. */
const orderRef = { ...order, number: 'MRT-10042' }
const rejection = {
  productId: 'p1',
  reason: 'insufficient_stock' as const,
  requested: 2,
  available: 1,
}
const samples: { [T in EventType]: EventData<T> } = {
  'user.registered': user,
  'user.updated': user,
  'user.deleted': user,
  'user.sessions_revoked': {
    userId: 'u1',
    notBefore: '2026-11-25T10:00:00.123Z',
    expiresAt: '2026-11-25T10:16:00.123Z',
    reason: 'role_lowered',
  },
  'product.created': { ...item, initialStock: 5 },
  'product.updated': { ...item, changed: ['price'] },
  'product.deleted': { id: 'p1' },
  'stock.reserved': { orderId: 'o1', lines },
  'stock.rejected': { orderId: 'o1', reasons: [rejection] },
  'stock.released': { orderId: 'o1', lines },
  'stock.committed': { orderId: 'o1', lines },
  'stock.adjusted': {
    productId: 'p1',
    onHand: 5,
    reserved: 2,
    available: 3,
    lowStockThreshold: 3,
    status: 'low_stock',
    reason: 'order o1 reserved',
  },
  'stock.low': { productId: 'p1', available: 3, lowStockThreshold: 3 },
  'order.placed': { ...orderRef, lines: [{ ...line, name: 'Lamp', unitPrice: money }], total: money },
  'order.awaiting_payment': {
    ...orderRef,
    lines: [{ ...line, name: 'Lamp', unitPrice: money }],
    total: money,
    expiresAt: '2026-11-25T10:30:00.000Z',
  },
  'order.confirmed': orderRef,
  'order.rejected': { ...orderRef, reasons: [rejection] },
  'order.cancelled': { ...orderRef, by: 'admin', actorId: 'u2', reason: 'out of stock', refundDue: true },
  'order.paid': { ...orderRef, paymentId: 'pay1' },
  'order.expired': orderRef,
  'order.shipped': orderRef,
  'order.delivered': orderRef,
  'payment.initiated': { ...payment, method: 'stripe', amount: money },
  'payment.succeeded': { ...payment, method: 'cod', amount: money },
  'payment.failed': { ...payment, method: 'stripe', reason: 'card declined' },
  'payment.refunded': { ...payment, amount: money },
  'payment.cod_selected': { ...payment, amount: money },
  'payment.needs_review': { ...payment, reason: 'amount differs', expected: money, received: null },
}

// AsyncAPI schemas are JSON Schema draft 07 (plus a few keywords this document does not use).
const ajv = new Ajv({ allErrors: true, strict: true })
addFormats(ajv)

describe('AsyncAPI document', () => {
  test('has a channel per topic and per dead-letter topic, addressed by the topic name', () => {
    expect(doc.asyncapi).toBe('3.0.0')
    const addresses = Object.values(doc.channels).map((c) => c.address)
    expect(addresses.sort()).toEqual([...topics, ...topics.map(dlqTopic)].sort())
  })

  test('puts every event type on the channel of its topic, and only there', () => {
    for (const [id, channel] of Object.entries(doc.channels)) {
      const expected = types.filter((t) => catalog[t].topic === channel.address)
      if (topics.includes(channel.address as Topic)) expect(Object.keys(channel.messages)).toEqual(expected)
      else expect(Object.keys(channel.messages)).toEqual(['deadLetter'])
      for (const [key, ref] of Object.entries(channel.messages)) {
        expect(ref.$ref).toBe(`#/components/messages/${key}`)
        expect(resolve(ref), `${id} -> ${key}`).toBeDefined()
      }
    }
  })

  test.each(types)('%s: payload accepts a valid event and pins type and version', (type) => {
    const message = doc.components.messages[type] as Message
    expect(message).toMatchObject({ name: type, summary: catalog[type].description })
    expect(message.contentType).toBe('application/json')
    expect(message.payload.properties.type?.const).toBe(type)
    expect(message.payload.properties.version?.const).toBe(catalog[type].version)

    const validPayload = ajv.compile(message.payload)
    // createEvent checks the sample against the catalog (TypeBox) first; the document must agree.
    const event = createEvent({ type, data: samples[type], subject: 's1', source: 'test', causationId: 'e0' })
    expect(validPayload(event), ajv.errorsText(validPayload.errors)).toBe(true)
    const other = types.find((t) => t !== type) as EventType
    expect(validPayload({ ...event, type: other })).toBe(false)
    expect(validPayload({ ...event, version: catalog[type].version + 1 })).toBe(false)
    expect(validPayload({ ...event, data: {} })).toBe(false)

    const validHeaders = ajv.compile(message.headers)
    const headers = { 'content-type': 'application/json', 'event-type': type, traceparent: '00-ab-cd-01' }
    expect(validHeaders(headers), ajv.errorsText(validHeaders.errors)).toBe(true)
    expect(validHeaders({ ...headers, 'event-type': other })).toBe(false)
  })

  test('dead letters carry every dlq-* header the consumer sets', () => {
    const { headers } = doc.components.messages.deadLetter as Message
    expect(headers.required).toEqual(Object.values(dlqHeaders))
    expect(Object.keys(headers.properties)).toEqual(Object.values(dlqHeaders))
  })

  test('each service sends the topics it publishes, with every event type on them', () => {
    const sends = Object.entries(doc.operations).filter(([, op]) => op.action === 'send')
    expect(sends.map(([id, op]) => [id, op.channel.$ref, op.messages.map(nameOf)])).toEqual(
      marketplace.flatMap((s) =>
        s.publishes.map((t) => [
          `${s.name}.send.${t}`,
          `#/channels/${t}`,
          types.filter((e) => catalog[e].topic === t),
        ]),
      ),
    )
    expect(doc.channels['inventory.events']?.description).toBe('Published by the inventory service.')
  })

  test('each service receives, per topic, exactly the event types it consumes, in catalog order', () => {
    const receives = Object.fromEntries(
      Object.entries(doc.operations)
        .filter(([, op]) => op.action === 'receive')
        .map(([id, op]) => [id, op.messages.map(nameOf)]),
    )
    expect(receives).toMatchObject({
      'product.receive.inventory.events': ['stock.adjusted'],
      'inventory.receive.product.events': ['product.created', 'product.deleted'],
      'inventory.receive.order.events': ['order.placed', 'order.cancelled'],
      'inventory.receive.payment.events': ['payment.succeeded'],
      'notification.receive.user.events': ['user.registered', 'user.sessions_revoked'],
      'notification.receive.inventory.events': ['stock.low'],
    })
    // Nothing is received that its service does not consume (the platform's consumption aside).
    for (const s of marketplace) {
      const declared = new Set([...s.consumes, ...authLayer.consumes])
      const got = Object.entries(receives).filter(([id]) => id.startsWith(`${s.name}.receive.`))
      expect(got.flatMap(([, messages]) => messages).sort()).toEqual([...declared].sort())
    }
    expect(receives['user.receive.product.events']).toBeUndefined()
  })

  test("every service receives what the platform consumes for it, named for the platform's consumer", () => {
    for (const { name } of marketplace) {
      const op = doc.operations[`${name}.receive.user.events`] as Operation
      expect(op.messages.map(nameOf)).toContain('user.sessions_revoked')
      expect(op.summary).toMatch(/user\.sessions_revoked \([^)]*auth layer\)/)
    }
    expect(doc.operations['product.receive.user.events']?.summary).toBe('user.sessions_revoked (auth layer)')
    expect(doc.operations['notification.receive.user.events']?.summary).toBe(
      'user.registered, user.sessions_revoked (own handler, auth layer)',
    )
  })

  test('a topic no service publishes keeps its channel, with no send operation', () => {
    const alone = asyncApiDocument([marketplace[1] as EventParticipant], [authLayer]) as Doc
    expect(Object.keys(alone.channels)).toEqual(Object.keys(doc.channels))
    expect(Object.keys(alone.operations)).toEqual([
      'product.receive.user.events',
      'product.send.product.events',
      'product.receive.inventory.events',
    ])
    expect(alone.channels['order.events']?.description).toBe(
      'No service publishes it yet: its event types are in the catalog ahead of their producer.',
    )
  })

  test('operations only name messages of their channel, and every topic has a reader', () => {
    for (const op of Object.values(doc.operations)) {
      const channel = resolve(op.channel) as Doc['channels'][string]
      const prefix = `${op.channel.$ref}/messages/`
      for (const ref of op.messages) {
        expect(ref.$ref.startsWith(prefix)).toBe(true)
        expect(Object.keys(channel.messages)).toContain(ref.$ref.slice(prefix.length))
      }
    }
    const read = new Set(
      Object.values(doc.operations)
        .filter((op) => op.action === 'receive')
        .map((op) => op.channel.$ref),
    )
    expect([...read].sort()).toEqual(topics.map((t) => `#/channels/${t}`).sort())
  })

  test('is a valid AsyncAPI 3.0 document (@asyncapi/parser)', async () => {
    const parser = new Parser()
    const serious = (ds: { severity: number }[]) =>
      ds.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning)

    const { document, diagnostics } = await parser.parse(JSON.stringify(doc))
    expect(serious(diagnostics)).toEqual([])
    expect(document?.messages().length).toBe(types.length + 1)

    // The validator is not vacuous: an operation naming a message its channel lacks is an error.
    const broken = structuredClone(doc)
    const op = Object.values(broken.operations)[0] as Doc['operations'][string]
    op.messages = [{ $ref: `${op.channel.$ref}/messages/no.such.event` }]
    const { document: none, diagnostics: errors } = await parser.parse(JSON.stringify(broken))
    expect(none).toBeUndefined()
    expect(serious(errors).length).toBeGreaterThan(0)
  })
})
