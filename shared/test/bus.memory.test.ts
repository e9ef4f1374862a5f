import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { partitionFor } from '../src/bus/partition.ts'
import { createEvent, type Delivery, dlqHeaders, encodeEvent, eventHeaders, MemoryBus } from '../src/index.ts'
import { capturedLogger, overrideBus, tempDir, waitFor } from '../src/testing.ts'
import { busContract, TOPICS } from './support/bus-contract.ts'
import { collect, consumer, producer, product, rawMessage } from './support/harness.ts'

describe('memory transport', () => {
  busContract({
    async create() {
      const bus = new MemoryBus({ partitions: 3 })
      await bus.ensureTopics(TOPICS)
      return bus
    },
    childEnv: () => ({ KAFKA_BROKERS: '' }),
  })
})

describe('memory transport with a journal file (the embedded mode)', () => {
  const dirs: ReturnType<typeof tempDir>[] = []
  afterAll(() => {
    for (const d of dirs.splice(0)) d.cleanup()
  })
  busContract({
    async create() {
      const tmp = tempDir()
      dirs.push(tmp)
      const bus = new MemoryBus({ partitions: 3, file: join(tmp.dir, 'bus.db') })
      await bus.ensureTopics(TOPICS)
      return bus
    },
    childEnv: () => ({ KAFKA_BROKERS: '' }),
  })
})

describe('memory transport: duplicate delivery switch', () => {
  test('hands every message to every group twice; consume() applies each event once', async () => {
    const tmp = tempDir()
    const bus = new MemoryBus({ duplicateDelivery: true })
    await bus.ensureTopics(TOPICS)
    const raw = await collect(bus, 'raw', ['product.events'])
    const c = await consumer(tmp.dir, bus, 'idempotent')
    const p = producer(tmp.dir, bus)
    p.relay.start()
    for (let i = 0; i < 10; i++) p.create(`d${i}`)
    await waitFor(() => raw.got.length === 20 && c.applied().length === 10, 'each message twice')
    await Bun.sleep(20)
    expect(c.applied().length).toBe(10)
    expect(c.inboxRows()).toBe(10)
    await Promise.all([raw.stop(), c.stop(), p.stop()])
    await bus.close()
    tmp.cleanup()
  })

  test('is on for the whole process with MART_BUS_DUPLICATE_DELIVERY=1', async () => {
    const before = process.env.MART_BUS_DUPLICATE_DELIVERY
    process.env.MART_BUS_DUPLICATE_DELIVERY = '1'
    const bus = new MemoryBus()
    if (before === undefined) delete process.env.MART_BUS_DUPLICATE_DELIVERY
    else process.env.MART_BUS_DUPLICATE_DELIVERY = before
    await bus.ensureTopics(['product.events'])
    const raw = await collect(bus, 'raw', ['product.events'])
    await bus.publish([rawMessage('product.events', 'k', '{}')])
    await waitFor(() => raw.got.length === 2, 'two deliveries')
    await bus.close()
  })
})

describe('memory transport: a message published as a delivery winds down', () => {
  // A group's delivery of a partition ends a few ticks after it last looks for messages. A message
  // published in between (here, by the handler of the one before, some ticks later; or at once
  // after subscribing) must start a delivery of its own, not wait for the next message.
  test('is delivered, however many ticks after the message before it, with or without duplicates', async () => {
    for (const duplicateDelivery of [false, true]) {
      for (let ticks = 0; ticks <= 12; ticks++) {
        const bus = new MemoryBus({ partitions: 1, duplicateDelivery })
        await bus.ensureTopics(['product.events'])
        const got = new Set<string>()
        const publishLater = async () => {
          for (let i = 0; i < ticks; i++) await Promise.resolve()
          await bus.publish([rawMessage('product.events', 'k', 'second')])
        }
        await bus.subscribe({
          group: 'g',
          topics: ['product.events'],
          handle: async (d) => {
            if (d.value === 'first' && !got.has('first')) void publishLater()
            got.add(d.value)
          },
        })
        await bus.publish([rawMessage('product.events', 'k', 'first')])
        await waitFor(
          () => got.has('second'),
          `the second message (${ticks} ticks later, duplicates ${duplicateDelivery})`,
          1_000,
        )
        await bus.close()
      }
    }
  })
})

describe('memory transport: trace context', () => {
  test("what a handler logs, through the service's own logger, says the trace its event came with", async () => {
    const tmp = tempDir()
    const bus = new MemoryBus()
    await bus.ensureTopics(TOPICS)
    const service = capturedLogger('inventory')
    const c = await consumer(tmp.dir, bus, 'traced', {
      onEvent: (id) => service.log.info({ id }, 'applying'),
    })
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const message = (id: string, traceparent?: string) => ({
      topic: 'product.events',
      key: id,
      value: encodeEvent(
        createEvent({ type: 'product.created', data: product(id), subject: id, source: 'product' }),
      ),
      headers: eventHeaders('product.created', traceparent),
    })
    await bus.publish([message('traced', `00-${traceId}-00f067aa0ba902b7-01`), message('untraced')])
    await waitFor(() => c.applied().length === 2, 'both applied')
    const logged = Object.fromEntries(service.lines().map((l) => [l.id, l.traceId ?? 'none']))
    expect(logged).toEqual({ traced: traceId, untraced: 'none' })
    await c.stop()
    await bus.close()
    tmp.cleanup()
  })
})

describe('memory transport: a backlog in one transaction', () => {
  test('waiting messages of a partition are applied in one transaction, each once, in order, in its own trace; a failing one is retried alone and dead-lettered', async () => {
    const tmp = tempDir()
    const bus = new MemoryBus()
    await bus.ensureTopics(TOPICS)
    const batches: number[] = []
    const counting = overrideBus(bus, {
      subscribe: (o) =>
        bus.subscribe({
          ...o,
          ...(o.handleBatch && {
            handleBatch: async (ds: Delivery[]) => {
              batches.push(ds.length)
              await o.handleBatch?.(ds)
            },
          }),
        }),
    })
    const dlq = await collect(bus, 'dlq-reader', ['product.events.dlq'])
    const service = capturedLogger('inventory')
    let attempts = 0
    const c = await consumer(tmp.dir, counting, 'batched', {
      onEvent: (id) => {
        service.log.info({ id }, 'applying')
        if (id !== 'poison') return
        attempts++
        throw new Error('cannot apply poison')
      },
    })
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const message = (id: string, i: number) => ({
      topic: 'product.events',
      key: 'one-key',
      value: encodeEvent(
        createEvent({ type: 'product.created', data: product(id), subject: id, source: 'product' }),
      ),
      headers: eventHeaders('product.created', `00-${traceId.slice(0, -1)}${i}-00f067aa0ba902b7-01`),
    })

    await bus.publish(['a', 'b', 'c'].map(message))
    await waitFor(() => c.applied().length === 3, 'the three applied')
    expect(batches).toEqual([3])
    expect(c.applied().map((r) => r.id)).toEqual(['a', 'b', 'c'])
    const traces = Object.fromEntries(service.lines().map((l) => [l.id, l.traceId]))
    expect(traces).toEqual({
      a: `${traceId.slice(0, -1)}0`,
      b: `${traceId.slice(0, -1)}1`,
      c: `${traceId.slice(0, -1)}2`,
    })

    // The batch rolls back whole; then each goes alone, and the batch's try was the poison's first attempt.
    await bus.publish(['d', 'poison', 'e'].map(message))
    await waitFor(
      () => c.applied().length === 5 && dlq.got.length === 1,
      'two more applied, one dead-lettered',
    )
    expect(c.applied().map((r) => r.id)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(attempts).toBe(3)
    expect(dlq.got[0]?.headers[dlqHeaders.attempts]).toBe('3')
    expect(c.inboxRows()).toBe(5)
    await Promise.all([dlq.stop(), c.stop()])
    await bus.close()
    tmp.cleanup()
  })
})

describe('memory transport: partitions handed over together', () => {
  test('one message from each of several partitions is applied in one transaction, each once; a failing one is rolled back alone, retried and dead-lettered', async () => {
    const tmp = tempDir()
    const bus = new MemoryBus({ partitions: 3 })
    await bus.ensureTopics(TOPICS)
    const dlq = await collect(bus, 'dlq-reader', ['product.events.dlq'])
    // What another connection sees committed while each handler runs.
    let reader: Database.Database | null = null
    const committedSeen: Record<string, number> = {}
    let attempts = 0
    const c = await consumer(tmp.dir, bus, 'together', {
      onEvent: (id) => {
        reader ??= new Database(join(tmp.dir, 'together.db'), { readonly: true })
        committedSeen[id] = (reader.prepare('SELECT count(*) AS n FROM applied').get() as { n: number }).n
        if (id !== 'poison') return
        attempts++
        throw new Error('cannot apply poison')
      },
    })
    // One key per partition: each partition has one message waiting, so none goes as a batch of its own.
    const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']
    const keyOf = (partition: number) => keys.find((k) => partitionFor(k, 3) === partition) as string
    const message = (id: string, partition: number) => ({
      topic: 'product.events',
      key: keyOf(partition),
      value: encodeEvent(
        createEvent({ type: 'product.created', data: product(id), subject: id, source: 'product' }),
      ),
      headers: eventHeaders('product.created'),
    })

    await bus.publish([message('a', 0), message('b', 1), message('c', 2)])
    await waitFor(() => c.applied().length === 3, 'the three applied')
    // Together: none of them saw another's row committed.
    expect(committedSeen).toEqual({ a: 0, b: 0, c: 0 })

    await bus.publish([message('d', 0), message('poison', 1), message('e', 2)])
    await waitFor(
      () => c.applied().length === 5 && dlq.got.length === 1,
      'two more applied, one dead-lettered',
    )
    expect(
      c
        .applied()
        .map((r) => r.id)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(committedSeen).toMatchObject({ d: 3, e: 3 })
    expect(attempts).toBe(3)
    expect(dlq.got[0]?.headers[dlqHeaders.attempts]).toBe('3')
    expect(c.inboxRows()).toBe(5)
    ;(reader as Database.Database | null)?.close()
    await Promise.all([dlq.stop(), c.stop()])
    await bus.close()
    tmp.cleanup()
  })
})
