import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import {
  type Bus,
  type BusMessage,
  MemoryBus,
  OutboxRelay,
  outboxStatements,
  recordInbox,
} from '../src/index.ts'
import { capturedLogger, overrideBus, tempDir, testLogger, waitFor } from '../src/testing.ts'
import { producer } from './support/harness.ts'

/** A bus whose publish fails while `down` is true, like a broker that went away. */
function flakyBus(inner: Bus) {
  const state = { down: true, attempts: 0, sent: [] as BusMessage[] }
  const bus = overrideBus(inner, {
    isReady: () => !state.down,
    async publish(messages) {
      state.attempts++
      if (state.down) throw new Error('broker unreachable')
      state.sent.push(...messages)
      await inner.publish(messages)
    },
  })
  return { bus, state }
}

describe('outbox relay', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('keeps committed events while the broker is away and sends them in order when it returns', async () => {
    const inner = new MemoryBus()
    await inner.ensureTopics(['product.events'])
    const { bus, state } = flakyBus(inner)
    const p = producer(tmp.dir, bus, testLogger())
    p.relay.start()
    for (let i = 0; i < 30; i++) p.create(`p${String(i).padStart(2, '0')}`)
    await waitFor(() => state.attempts >= 2, 'a few failed attempts')
    expect(p.relay.pending()).toBe(30)
    state.down = false
    await waitFor(() => p.relay.pending() === 0, 'the outbox drained')
    const ids = state.sent.map((m) => JSON.parse(m.value).data.id)
    expect(ids).toEqual([...ids].sort())
    expect(new Set(ids).size).toBe(30)
    await p.stop()
  })

  test('publishes right after the commit, without waiting for the poll', async () => {
    const bus = new MemoryBus()
    await bus.ensureTopics(['product.events'])
    const p = producer(tmp.dir, bus, testLogger())
    const slow = new OutboxRelay(p.store, bus, testLogger(), { pollMs: 60_000 })
    slow.start()
    await Bun.sleep(20) // the relay is idle, its next poll a minute away
    p.create('woken')
    await waitFor(() => slow.pending() === 0, 'publish on commit', 2000)
    await slow.stop()
    await p.stop()
  })

  test('purges sent outbox rows and inbox rows past retention, and keeps unsent rows', async () => {
    const bus = new MemoryBus()
    await bus.ensureTopics(['product.events'])
    const p = producer(tmp.dir, bus, testLogger())
    p.create('sent')
    p.relay.start()
    await waitFor(() => p.relay.pending() === 0, 'the first row sent')
    await p.relay.stop()
    p.create('unsent')
    recordInbox(p.store, 'g', 'old-event', 'product.events')
    const later = Date.now() + 8 * 86_400_000
    expect(p.relay.purge(later)).toEqual({ outbox: 1, inbox: 1 })
    expect(outboxStatements(p.store).countPending.get()?.n).toBe(1)
    p.store.close()
  })

  test('stop flushes what is pending before it returns', async () => {
    const bus = new MemoryBus()
    await bus.ensureTopics(['product.events'])
    const p = producer(tmp.dir, bus, testLogger())
    p.relay.start()
    for (let i = 0; i < 100; i++) p.create(`f${i}`)
    await p.relay.stop()
    expect(p.relay.pending()).toBe(0)
    p.store.close()
  })

  test('a periodic purge that fails is logged, and the process carries on', async () => {
    const bus = new MemoryBus()
    await bus.ensureTopics(['product.events'])
    const p = producer(tmp.dir, bus, testLogger())
    const captured = capturedLogger()
    const relay = new OutboxRelay(p.store, bus, captured.log, { purgeEveryMs: 20 })
    relay.start()
    // The inbox table gone (a broken database, say): every purge from now on throws.
    p.store.sqlite.exec('DROP TABLE mart_inbox')
    await waitFor(
      () => captured.lines().some((l) => l.msg === 'could not purge old outbox and inbox rows'),
      'the failure logged',
    )
    p.create('after')
    await waitFor(() => relay.pending() === 0, 'the relay still publishing')
    await relay.stop()
    p.store.close()
  })
})
