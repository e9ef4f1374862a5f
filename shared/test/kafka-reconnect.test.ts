import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { KafkaBus } from '../src/index.ts'
import { capturedLogger, describeKafka, tempDir, testLogger, waitFor } from '../src/testing.ts'
import { consumer, producer } from './support/harness.ts'

// A broker of its own, so this suite can stop and restart it without disturbing the others.
const PORT = 19092
const launcher = join(import.meta.dir, '..', '..', 'scripts', 'kafka.sh')

describeKafka('kafka: the broker goes away and comes back', () => {
  const tmp = tempDir('mart-kafka-restart-')
  const broker = (action: 'start' | 'stop', keepData = false) => {
    const r = Bun.spawnSync(['bash', launcher, action], {
      env: {
        ...process.env,
        KAFKA_PORT: String(PORT),
        KAFKA_HOME_DIR: join(tmp.dir, 'broker'),
        KAFKA_KEEP_DATA: keepData ? '1' : '0',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    if (r.exitCode !== 0) throw new Error(`kafka.sh ${action} failed: ${r.stderr.toString()}`)
  }

  beforeAll(() => broker('start'), 120_000)
  afterAll(() => {
    broker('stop')
    tmp.cleanup()
  })

  test('commits made while it is away are published and consumed once it is back', async () => {
    const bus = new KafkaBus({
      brokers: [`127.0.0.1:${PORT}`],
      clientId: 'restart',
      log: testLogger('kafka'),
    })
    await bus.ensureTopics(['product.events', 'product.events.dlq'])
    const c = await consumer(tmp.dir, bus, 'survivor')
    const p = producer(tmp.dir, bus)
    p.relay.start()
    p.create('before')
    await waitFor(() => c.applied().length === 1, 'the first event')

    broker('stop')
    for (let i = 0; i < 5; i++) p.create(`during-${i}`, 'k')
    await waitFor(() => !bus.isReady(), 'the bus to report the broker gone')
    expect(p.relay.pending()).toBe(5) // nowhere to send them: they wait in the outbox

    broker('start', true)
    await waitFor(() => c.applied().length === 6, 'the events committed during the outage', 90_000)
    expect(c.applied().map((r) => r.id)).toEqual([
      'before',
      ...Array.from({ length: 5 }, (_, i) => `during-${i}`),
    ])
    expect(p.relay.pending()).toBe(0)
    expect(bus.isReady()).toBe(true)

    await c.stop()
    await p.stop()
    await bus.close()
  }, 180_000)

  test('a bus that only consumes says so when the broker hangs, long before its consumer gives up', async () => {
    const captured = capturedLogger('listener')
    const bus = new KafkaBus({ brokers: [`127.0.0.1:${PORT}`], clientId: 'listener', log: captured.log })
    await bus.ensureTopics(['product.events', 'product.events.dlq'])
    await bus.connect()
    const c = await consumer(tmp.dir, bus, 'listener')
    await waitFor(() => bus.isReady(), 'the bus ready')

    // A broker that stops answering (a pause, a partition): the connections stay open, requests
    // time out, and the consumer retries them for minutes before it crashes.
    const pid = Number(readFileSync(join(tmp.dir, 'broker', 'broker.pid'), 'utf8'))
    process.kill(pid, 'SIGSTOP')
    try {
      await waitFor(() => !bus.isReady(), 'the bus to report the broker gone', 60_000)
      // Nothing was published (no failed publish told it), and the consumer had not given up.
      expect(captured.lines().filter((l) => l.msg === 'consumer crashed')).toEqual([])
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    await waitFor(() => bus.isReady(), 'the bus to report the broker back', 90_000)

    await c.stop()
    await bus.close()
  }, 180_000)
})
