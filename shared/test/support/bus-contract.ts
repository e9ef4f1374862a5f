import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import {
  type Bus,
  type Delivery,
  dlqHeaders,
  EventValidationError,
  openStore,
  outboxStatements,
  tx,
} from '../../src/index.ts'
import { afterHandled, tempDir, waitFor } from '../../src/testing.ts'
import { collect, consumer, producer, rawMessage } from './harness.ts'

export interface TransportFixture {
  /** A bus on fresh topics (product.events and its DLQ created). */
  create(): Promise<Bus>
  /** Environment for a child process to reach the same topics (see fixtures/crash-after-commit.ts). */
  childEnv(bus: Bus): Record<string, string>
}

const TOPICS = ['product.events', 'product.events.dlq']

/** Passes a message to the handler, then fails once as if the process died before committing the offset. */
function crashingAfterHandling(bus: Bus): Bus {
  const crashed = new Set<string>()
  return afterHandled(bus, (d) => {
    const id = `${d.topic}/${d.partition}/${d.offset}`
    if (crashed.has(id)) return
    crashed.add(id)
    throw new Error('simulated crash before the offset commit')
  })
}

/** The observable semantics every transport must have; run once per transport. */
export function busContract(fx: TransportFixture) {
  let bus: Bus
  let tmp: ReturnType<typeof tempDir>
  const stops: (() => Promise<void> | void)[] = []

  beforeEach(async () => {
    tmp = tempDir()
    bus = await fx.create()
  })
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop()
    await bus.close()
    tmp.cleanup()
  })

  test('keeps per-key order and gives every consumer group every event exactly once', async () => {
    const a = await consumer(tmp.dir, bus, 'group-a')
    const b = await consumer(tmp.dir, bus, 'group-b')
    const p = producer(tmp.dir, bus)
    stops.push(a.stop, b.stop, p.stop)
    p.relay.start()
    const n = 200
    for (let i = 0; i < n; i++) p.create(`p${String(i).padStart(3, '0')}`, `key-${i % 7}`)
    for (const c of [a, b]) {
      await waitFor(() => c.applied().length >= n, `${n} events`)
      const ids = c.applied().map((r) => r.id)
      expect(new Set(ids).size).toBe(n)
      expect(ids.length).toBe(n)
      // Within one key, events arrive in the order they were committed.
      for (let k = 0; k < 7; k++) {
        const ofKey = ids.filter((id) => Number(id.slice(1)) % 7 === k)
        expect(ofKey).toEqual([...ofKey].sort())
      }
    }
  })

  test('retries a handler that throws and applies the event once', async () => {
    let failuresLeft = 2
    let attempts = 0
    const c = await consumer(tmp.dir, bus, 'flaky', {
      onEvent: (id) => {
        if (id !== 'flaky') return
        attempts++
        if (failuresLeft-- > 0) throw new Error('database is busy')
      },
    })
    const p = producer(tmp.dir, bus)
    stops.push(c.stop, p.stop)
    p.relay.start()
    p.create('flaky')
    await waitFor(() => c.applied().length === 1, 'the flaky event')
    expect(attempts).toBe(3)
    expect(c.inboxRows()).toBe(1)
  })

  test('dead-letters an event that fails past the retry budget, and the partition keeps moving', async () => {
    const dlq = await collect(bus, 'dlq-reader', ['product.events.dlq'])
    let attempts = 0
    const c = await consumer(tmp.dir, bus, 'strict', {
      onEvent: (id) => {
        if (id !== 'poison') return
        attempts++
        throw new Error('cannot apply poison')
      },
    })
    const p = producer(tmp.dir, bus)
    stops.push(dlq.stop, c.stop, p.stop)
    p.relay.start()
    for (const id of ['before', 'poison', 'after']) p.create(id, 'same-key')
    await waitFor(() => c.applied().length === 2 && dlq.got.length === 1, 'two applied, one dead-lettered')
    expect(c.applied().map((r) => r.id)).toEqual(['before', 'after'])
    expect(attempts).toBe(3)
    const dead = dlq.got[0] as Delivery
    expect(dead.key).toBe('same-key')
    expect(JSON.parse(dead.value).data.id).toBe('poison')
    expect(dead.headers[dlqHeaders.reason]).toBe('failed')
    expect(dead.headers[dlqHeaders.error]).toBe('cannot apply poison')
    expect(dead.headers[dlqHeaders.group]).toBe('strict')
    expect(dead.headers[dlqHeaders.topic]).toBe('product.events')
    expect(dead.headers[dlqHeaders.attempts]).toBe('3')
    // Nothing of the failed attempts stayed behind.
    expect(c.inboxRows()).toBe(2)
  })

  test('rejects an invalid event at publish: the transaction rolls back and nothing is sent', async () => {
    const p = producer(tmp.dir, bus)
    stops.push(p.stop)
    const bad = () =>
      tx(p.store, (t) => {
        p.store.sqlite.prepare('INSERT INTO products (id, stock) VALUES (?, ?)').run('x', 1)
        // @ts-expect-error the price must be integer minor units with a currency: this does not compile
        t.publish('product.created', { id: 'x', price: 19.99 }, { subject: 'x' })
      })
    expect(bad).toThrow(EventValidationError)
    expect(p.count()).toBe(0)
    expect(outboxStatements(p.store).countPending.get()?.n).toBe(0)
  })

  test('dead-letters a message that is not a valid event, and the partition keeps moving', async () => {
    const dlq = await collect(bus, 'dlq-reader', ['product.events.dlq'])
    const c = await consumer(tmp.dir, bus, 'validating')
    const p = producer(tmp.dir, bus)
    stops.push(dlq.stop, c.stop, p.stop)
    const envelope = {
      id: '01930000-0000-7000-8000-000000000000',
      type: 'product.created',
      version: 1,
      occurredAt: new Date().toISOString(),
      source: 'product',
      subject: 'k',
      data: { id: 'k', price: { amount: -5, currency: 'eur' } },
      correlationId: 'c',
      causationId: null,
    }
    await bus.publish([
      rawMessage('product.events', 'k', '{not json'),
      rawMessage('product.events', 'k', JSON.stringify(envelope)),
    ])
    p.relay.start()
    p.create('good', 'k')
    await waitFor(() => c.applied().length === 1 && dlq.got.length === 2, 'one applied, two dead-lettered')
    expect(c.applied()[0]?.id).toBe('good')
    expect(dlq.got.map((d) => d.headers[dlqHeaders.reason])).toEqual(['invalid', 'invalid'])
    expect(dlq.got[0]?.headers[dlqHeaders.error]).toBe('message is not JSON')
    expect(dlq.got[1]?.headers[dlqHeaders.error]).toContain('invalid product.created data')
    expect(dlq.got[1]?.value).toBe(JSON.stringify(envelope))
  })

  test('redelivery after a consumer crash changes nothing (inbox)', async () => {
    const c = await consumer(tmp.dir, crashingAfterHandling(bus), 'crashy')
    const p = producer(tmp.dir, bus)
    stops.push(p.stop)
    p.relay.start()
    for (let i = 0; i < 20; i++) p.create(`c${i}`, `key-${i % 3}`)
    await waitFor(() => c.applied().length === 20 && p.relay.pending() === 0, '20 events')
    await c.stop()

    // The relay died after publishing but before marking the rows sent: they go out again.
    p.store.sqlite.exec('UPDATE mart_outbox SET sent_at = NULL')
    const again = await consumer(tmp.dir, bus, 'crashy')
    stops.push(again.stop)
    p.relay.start()
    await waitFor(() => p.relay.pending() === 0, 're-publish')
    const probe = 'after-redelivery'
    p.create(probe, 'key-0')
    await waitFor(() => again.applied().some((r) => r.id === probe), 'the probe event')
    expect(again.applied().length).toBe(21)
    expect(again.inboxRows()).toBe(21)
  })

  test('the outbox survives kill -9 between commit and publish', async () => {
    const child = Bun.spawn(
      ['bun', join(import.meta.dir, '..', 'fixtures', 'crash-after-commit.ts'), tmp.dir, '50'],
      { env: { ...process.env, ...fx.childEnv(bus) }, stdout: 'inherit', stderr: 'inherit' },
    )
    await child.exited
    expect(child.signalCode).toBe('SIGKILL')

    const db = openStore({ file: join(tmp.dir, 'producer.db'), source: 'product' })
    expect(outboxStatements(db).countPending.get()?.n).toBe(50)
    db.close()

    // "Restart": the same database, a new relay; everything committed is delivered, once.
    const c = await consumer(tmp.dir, bus, 'after-crash')
    const p = producer(tmp.dir, bus)
    stops.push(c.stop, p.stop)
    expect(p.count()).toBe(50)
    p.relay.start()
    await waitFor(() => c.applied().length === 50, '50 events after restart')
    await waitFor(() => p.relay.pending() === 0, 'the outbox drained')
    expect(new Set(c.applied().map((r) => r.id)).size).toBe(50)
  })
}

export { TOPICS }
