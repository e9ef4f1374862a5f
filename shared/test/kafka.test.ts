import { afterEach, beforeEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Kafka, KafkaJSNonRetriableError, logLevel } from 'kafkajs'
import { dlqHeaders, KafkaBus, readDeadLetters } from '../src/index.ts'
import { describeKafka, tempDir, testLogger, uniquePrefix, waitFor } from '../src/testing.ts'
import { consumer, producer } from './support/harness.ts'

const dlqScript = join(import.meta.dir, '..', '..', 'scripts', 'dlq.ts')

describeKafka('kafka: crashes, dead letters and redrive', (brokers) => {
  let tmp: ReturnType<typeof tempDir>
  let bus: KafkaBus
  let prefix: string
  const stops: (() => Promise<void>)[] = []

  beforeEach(async () => {
    tmp = tempDir()
    prefix = uniquePrefix()
    bus = new KafkaBus({ brokers, clientId: 'kafka-test', topicPrefix: prefix, log: testLogger('kafka') })
    await bus.ensureTopics(['product.events', 'product.events.dlq'])
  })
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop()
    await bus.close()
    tmp.cleanup()
  })

  test('a consumer killed with -9 after its transaction, before its offset commit, gets the event again and changes nothing', async () => {
    const child = Bun.spawn(
      ['bun', join(import.meta.dir, 'fixtures', 'consume-then-die.ts'), tmp.dir, 'killed'],
      {
        env: { ...process.env, KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix },
        stdout: 'pipe',
        stderr: 'inherit',
      },
    )
    const p = producer(tmp.dir, bus)
    stops.push(p.stop)
    // Wait until the child is in the group, then send: a, die, b on one key.
    const decoder = new TextDecoder()
    for await (const chunk of child.stdout) if (decoder.decode(chunk).includes('subscribed')) break
    p.relay.start()
    for (const id of ['a', 'die', 'b']) p.create(id, 'one-key')
    await child.exited
    expect(child.signalCode).toBe('SIGKILL')

    // The restarted consumer: same database, same group.
    const again = await consumer(tmp.dir, bus, 'killed')
    stops.push(again.stop)
    await waitFor(() => again.applied().some((r) => r.id === 'b'), 'b applied after the restart', 30_000)
    expect(again.applied().map((r) => r.id)).toEqual(['a', 'die', 'b'])
    expect(again.inboxRows()).toBe(3)
    // The killed member stays in the group until its session times out (10 s): the restarted one
    // joins only after that.
  }, 60_000)

  test('a waiting backlog reaches handleBatch in one piece; a group stopped cleanly commits what it handled, so its successor starts after it', async () => {
    const p = producer(tmp.dir, bus)
    stops.push(p.stop)
    // Published before the group exists: the first fetch finds all of it (one key, one partition).
    for (let i = 0; i < 20; i++) p.create(`backlog-${i}`, 'one-key')
    p.relay.start()
    await waitFor(() => p.relay.pending() === 0, 'the backlog published')

    const batches: number[] = []
    const seen: string[] = []
    const first = await bus.subscribe({
      group: 'successive',
      topics: ['product.events'],
      handle: async (d) => {
        batches.push(1)
        seen.push(JSON.parse(d.value).data.id)
      },
      handleBatch: async (ds) => {
        batches.push(ds.length)
        for (const d of ds) seen.push(JSON.parse(d.value).data.id)
      },
    })
    await waitFor(() => seen.length === 20, 'the backlog handled')
    expect(Math.max(...batches)).toBeGreaterThan(1)
    // Stopped at once: well within the interval of the background commits.
    await first.close()

    const later: string[] = []
    const second = await bus.subscribe({
      group: 'successive',
      topics: ['product.events'],
      handle: async (d) => {
        later.push(JSON.parse(d.value).data.id)
      },
    })
    stops.push(() => second.close())
    p.create('after', 'one-key')
    await waitFor(() => later.includes('after'), 'the next message')
    expect(later).toEqual(['after'])
  }, 60_000)

  test('a consumer kafkajs crashes for good (an error it does not restart on) is started again, and gets its message back', async () => {
    const p = producer(tmp.dir, bus)
    stops.push(p.stop)
    const handled: string[] = []
    let crashes = 1
    const sub = await bus.subscribe({
      group: 'given-up',
      topics: ['product.events'],
      handle: async (d) => {
        // As kafkajs itself fails while a broker shuts down ("Failed to find group coordinator"):
        // a non-retriable error, after which kafkajs leaves the consumer stopped.
        if (crashes-- > 0) throw new KafkaJSNonRetriableError('Failed to find group coordinator')
        handled.push(d.key)
      },
    })
    stops.push(() => sub.close())
    p.relay.start()
    p.create('lamp', 'one-key')
    await waitFor(() => handled.length > 0, 'the message handled by the consumer started again', 30_000)
    expect(handled).toEqual(['one-key'])
    await waitFor(() => bus.isReady(), 'the bus ready again')
  }, 60_000)

  test('dead letters are listed with their error and, once redriven, applied exactly once', async () => {
    let broken = true
    const c = await consumer(tmp.dir, bus, 'fixable', {
      onEvent: (id) => {
        if (broken && id === 'needs-fix') throw new Error('downstream rejected it')
      },
    })
    const bystander = await consumer(tmp.dir, bus, 'bystander')
    const p = producer(tmp.dir, bus)
    stops.push(c.stop, bystander.stop, p.stop)
    p.relay.start()
    for (const id of ['ok-1', 'needs-fix', 'ok-2']) p.create(id, 'k')
    await waitFor(() => c.applied().length === 2 && bystander.applied().length === 3, 'ok events applied')

    const letters = await waitFor(async () => {
      const l = await readDeadLetters({ brokers, topicPrefix: prefix }, 'product.events')
      return l.length === 1 ? l : null
    }, 'one dead letter')
    const letter = letters[0] as (typeof letters)[number]
    expect(JSON.parse(letter.value).data.id).toBe('needs-fix')
    expect(letter.headers[dlqHeaders.error]).toBe('downstream rejected it')
    expect(letter.headers[dlqHeaders.group]).toBe('fixable')

    // The operator's tools: list the dead letters, fix the cause, redrive the one chosen.
    const cli = (...args: string[]) => {
      const r = Bun.spawnSync(['bun', dlqScript, ...args], {
        env: { ...process.env, KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix },
      })
      expect(r.exitCode).toBe(0)
      return r.stdout.toString()
    }
    const listed = JSON.parse(cli('list', 'product.events').trim())
    expect(listed).toMatchObject({
      at: `${letter.partition}/${letter.offset}`,
      type: 'product.created',
      group: 'fixable',
      reason: 'failed',
      error: 'downstream rejected it',
    })
    broken = false
    expect(cli('redrive', 'product.events', listed.at)).toContain('redrove 1 message')
    await waitFor(() => c.applied().length === 3, 'the redriven event applied')
    expect(c.applied().map((r) => r.id)).toEqual(['ok-1', 'ok-2', 'needs-fix'])
    // The group that had applied it already skips the redelivery: a probe on the same key comes
    // after it in the partition, so once the probe is applied the redelivery has been seen.
    p.create('probe', 'k')
    await waitFor(() => bystander.applied().some((r) => r.id === 'probe'), 'the probe')
    expect(bystander.applied().map((r) => r.id)).toEqual(['ok-1', 'needs-fix', 'ok-2', 'probe'])
  })

  test('creates its topics once, with the configured partition count', async () => {
    const six = new KafkaBus({
      brokers,
      clientId: 'topics',
      partitions: 6,
      topicPrefix: prefix,
      log: testLogger(),
    })
    await six.ensureTopics(['order.events', 'order.events.dlq'])
    await six.ensureTopics(['order.events', 'order.events.dlq']) // again: nothing to do, no error
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    const { topics } = await admin.fetchTopicMetadata({ topics: [`${prefix}order.events`] })
    await admin.disconnect()
    expect(topics[0]?.partitions.length).toBe(6)
    await six.close()
  })
})
