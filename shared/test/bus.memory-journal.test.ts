import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryBus, openStore, outboxStatements } from '../src/index.ts'
import { tempDir, waitFor } from '../src/testing.ts'
import { collect, consumer, producer, rawMessage } from './support/harness.ts'

const TOPICS = ['product.events', 'product.events.dlq']
const dlqScript = join(import.meta.dir, '..', '..', 'scripts', 'dlq.ts')
/** `n` messages m0..m(n-1) on product.events, one key each. */
const numbered = (n: number) =>
  Array.from({ length: n }, (_, i) => rawMessage('product.events', `k${i}`, `m${i}`))
const valuesOf = (n: number) => numbered(n).map((m) => m.value)

describe('memory transport with a journal file', () => {
  let tmp: ReturnType<typeof tempDir>
  let file: string
  beforeEach(() => {
    tmp = tempDir()
    file = join(tmp.dir, 'bus.db')
  })
  afterEach(() => tmp.cleanup())

  async function openBus(retentionMs?: number) {
    const bus = new MemoryBus({ file, retentionMs })
    await bus.ensureTopics(TOPICS)
    return bus
  }

  test('what was published but not yet consumed when the process is killed with -9 is delivered after the restart, once', async () => {
    const count = 30
    const dieAt = 9
    const child = Bun.spawn(
      ['bun', join(import.meta.dir, 'fixtures', 'journal-then-die.ts'), tmp.dir, `${count}`, `${dieAt}`],
      { stdout: 'inherit', stderr: 'inherit' },
    )
    await child.exited
    expect(child.signalCode).toBe('SIGKILL')

    // The outbox had handed every event over: without the journal the last 20 would be gone.
    const producerDb = openStore({ file: join(tmp.dir, 'producer.db'), source: 'product' })
    expect(outboxStatements(producerDb).countPending.get()?.n).toBe(0)
    producerDb.close()

    const bus = await openBus()
    const c = await consumer(tmp.dir, bus, 'survivor')
    await waitFor(() => c.applied().length >= count, `${count} events applied`)
    await Bun.sleep(50) // room for a duplicate to show up
    const expected = Array.from({ length: count }, (_, i) => (i === dieAt ? 'die' : `e${i}`))
    expect(c.applied().map((r) => r.id)).toEqual(expected)
    expect(c.inboxRows()).toBe(count)
    await c.stop()
    await bus.close()
  })

  test('one process per journal: a second bus on the file is refused while the first has it; a dead owner is replaced', async () => {
    const first = await openBus()
    expect(() => new MemoryBus({ file })).toThrow(`is in use by process ${process.pid}`)
    await first.close()
    await (await openBus()).close()

    // A process killed with -9 leaves its lock behind.
    const dead = Bun.spawnSync(['true']).pid
    writeFileSync(`${file}.lock`, String(dead))
    const after = await openBus()
    expect(readFileSync(`${file}.lock`, 'utf8')).toStartWith(`${process.pid} `)
    await after.close()
    expect(existsSync(`${file}.lock`)).toBe(false)
  })

  test('a group from an earlier run gets what was published while it was away; past the retention, consumed messages leave the file', async () => {
    // Run 1: both groups subscribe, then leave.
    let bus = await openBus()
    for (const group of ['fast', 'away']) await (await collect(bus, group, ['product.events'])).stop()
    await bus.close()

    // Run 2: only "fast" is here while ten messages go by.
    bus = await openBus()
    const fast = await collect(bus, 'fast', ['product.events'])
    await bus.publish(numbered(10))
    await waitFor(() => fast.got.length === 10, 'fast to read ten')
    await fast.stop()
    await bus.close()

    // Run 3: "away" is back and gets all ten; "fast" gets nothing twice.
    bus = await openBus()
    const away = await collect(bus, 'away', ['product.events'])
    const fastAgain = await collect(bus, 'fast', ['product.events'])
    await waitFor(() => away.got.length === 10, 'away to read ten')
    await bus.publish([rawMessage('product.events', 'k0', 'after')])
    await waitFor(() => fastAgain.got.length === 1 && away.got.length === 11, 'one more for both')
    expect(fastAgain.got.map((d) => d.value)).toEqual(['after'])
    expect(away.got.map((d) => d.value).sort()).toEqual([...valuesOf(10), 'after'].sort())
    await Promise.all([away.stop(), fastAgain.stop()])
    await bus.close()

    // Everyone has read everything; offsets go on, never repeat.
    bus = await openBus()
    const offsets = new Set([...fastAgain.got, ...away.got].map((d) => `${d.partition}/${d.offset}`))
    const later = await collect(bus, 'fast', ['product.events'])
    await bus.publish([rawMessage('product.events', 'k0', 'later')])
    await waitFor(() => later.got.length === 1, 'the next message')
    expect(offsets.has(`${later.got[0]?.partition}/${later.got[0]?.offset}`)).toBe(false)
    await later.stop()
    await bus.close()

    // Past the retention, what every group has consumed leaves the file: "away" reads the last one,
    // and nothing is left.
    bus = await openBus(0)
    const lastForAway = await collect(bus, 'away', ['product.events'])
    await waitFor(() => lastForAway.got.length === 1, 'away to read the last one')
    await lastForAway.stop()
    await bus.close()
    const journal = openStore({ file, source: 'check' })
    expect(journal.sqlite.prepare('SELECT count(*) AS n FROM bus_messages').get()).toEqual({ n: 0 })
    journal.close()
  })

  test('bun run dlq lists the embedded dead letters while Mart runs, and redrives them once it has stopped', async () => {
    let bus = await openBus()
    let fixable = await consumer(tmp.dir, bus, 'fixable', {
      onEvent: (id) => {
        if (id === 'needs-fix') throw new Error('downstream rejected it')
      },
    })
    let bystander = await consumer(tmp.dir, bus, 'bystander')
    const p = producer(tmp.dir, bus)
    p.relay.start()
    for (const id of ['ok-1', 'needs-fix', 'ok-2']) p.create(id, 'k')
    await waitFor(
      () => fixable.applied().length === 2 && bystander.applied().length === 3,
      'the good events applied and one dead-lettered',
    )
    const cli = (...args: string[]) =>
      Bun.spawnSync(['bun', dlqScript, ...args], {
        env: { ...process.env, KAFKA_BROKERS: '', DATA_DIR: tmp.dir },
      })

    // Listing reads the journal beside the running bus.
    const list = await waitFor(() => {
      const out = cli('list', 'product.events').stdout.toString().trim()
      return out.startsWith('{') ? out : null
    }, 'the dead letter in the journal')
    const listed = JSON.parse(list)
    expect(listed).toMatchObject({
      type: 'product.created',
      group: 'fixable',
      reason: 'failed',
      error: 'downstream rejected it',
    })
    // A redrive needs the journal, which the running bus owns.
    const refused = cli('redrive', 'product.events', listed.at)
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr.toString()).toContain(`is in use by process ${process.pid}`)

    await Promise.all([fixable.stop(), bystander.stop(), p.stop()])
    await bus.close()
    const redrive = cli('redrive', 'product.events', listed.at)
    expect(redrive.exitCode).toBe(0)
    expect(redrive.stdout.toString()).toContain('redrove 1 message')

    // Back up, with the cause fixed: the redriven event is applied once; the group that had it skips it.
    bus = await openBus()
    fixable = await consumer(tmp.dir, bus, 'fixable')
    bystander = await consumer(tmp.dir, bus, 'bystander')
    await waitFor(() => fixable.applied().length === 3, 'the redriven event applied')
    await Bun.sleep(50)
    expect(fixable.applied().map((r) => r.id)).toEqual(['ok-1', 'ok-2', 'needs-fix'])
    expect(bystander.applied().map((r) => r.id)).toEqual(['ok-1', 'needs-fix', 'ok-2'])
    await Promise.all([fixable.stop(), bystander.stop()])
    await bus.close()
  })

  test('a group that has never been here reads the retained history, as a new Kafka group does', async () => {
    // A service added to an existing marketplace: its read model needs what came before it.
    let bus = await openBus()
    const early = await collect(bus, 'early', ['product.events'])
    await bus.publish(numbered(8))
    await waitFor(() => early.got.length === 8, 'early to read eight')
    await early.stop()
    await bus.close()

    bus = await openBus()
    const latecomer = await collect(bus, 'latecomer', ['product.events'])
    const earlyAgain = await collect(bus, 'early', ['product.events'])
    await waitFor(() => latecomer.got.length === 8, 'the latecomer to read the history')
    expect(latecomer.got.map((d) => d.value).sort()).toEqual(valuesOf(8))
    await Bun.sleep(20)
    expect(earlyAgain.got).toEqual([])
    await Promise.all([latecomer.stop(), earlyAgain.stop()])
    await bus.close()
  })
})
