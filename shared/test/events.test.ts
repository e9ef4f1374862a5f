import { describe, expect, test } from 'bun:test'
import {
  catalog,
  createEvent,
  decodeEvent,
  EventValidationError,
  encodeEvent,
  topics,
} from '../src/events/index.ts'
import { product } from './support/harness.ts'

describe('event envelope', () => {
  test('round-trips a valid event with a uuid v7 id and its catalog version', () => {
    const e = createEvent({ type: 'product.created', data: product('p1'), subject: 'p1', source: 'product' })
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(e.version).toBe(1)
    expect(e.correlationId).toBe(e.id) // a new conversation correlates with its first event
    expect(e.causationId).toBeNull()
    expect(decodeEvent(encodeEvent(e))).toEqual(e)
  })

  test('keeps the correlation and causation it is given', () => {
    const e = createEvent({
      type: 'product.deleted',
      data: { id: 'p1' },
      subject: 'p1',
      source: 'product',
      correlationId: 'req-1',
      causationId: 'evt-0',
    })
    expect([e.correlationId, e.causationId]).toEqual(['req-1', 'evt-0'])
  })

  test('refuses to create an event whose data breaks its schema, naming the field only', () => {
    const make = () =>
      createEvent({
        type: 'order.placed',
        // Compiles (to TypeScript an integer is a number), so the runtime check is what stops it.
        data: {
          orderId: 'o',
          userId: 'u',
          number: 'MRT-10042',
          lines: [],
          total: { amount: 1.5, currency: 'EUR' },
        },
        subject: 'o',
        source: 'order',
      })
    expect(make).toThrow(EventValidationError)
    try {
      make()
    } catch (e) {
      const paths = (e as EventValidationError).violations.map((v) => v.path)
      expect(paths).toContain('/data/lines')
      expect(paths).toContain('/data/total/amount')
      expect((e as Error).message).not.toContain('1.5')
    }
  })

  test.each([
    ['not JSON', '{', 'message is not JSON'],
    ['no envelope', JSON.stringify({ hello: 1 }), 'invalid envelope'],
    ['an unknown type', JSON.stringify({ ...base(), type: 'order.teleported' }), 'unknown event type'],
    ['a future version', JSON.stringify({ ...base(), version: 2 }), 'unsupported version 2'],
    ['invalid data', JSON.stringify({ ...base(), data: { id: '' } }), 'invalid product.deleted data'],
    ['an extra envelope field', JSON.stringify({ ...base(), extra: 1 }), 'invalid envelope'],
  ])('rejects %s on decode', (_what, value, message) => {
    expect(() => decodeEvent(value)).toThrow(message)
  })

  test('every event type travels on one of the catalog topics', () => {
    for (const def of Object.values(catalog)) expect(topics).toContain(def.topic)
  })
})

function base() {
  return createEvent({ type: 'product.deleted', data: { id: 'p1' }, subject: 'p1', source: 'product' })
}
