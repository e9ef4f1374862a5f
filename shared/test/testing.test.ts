// The service harness every service's tests start from: what it promises a test about the service
// it runs, checked on the demo service (publishes product.events and consumes its own product.created).
import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { dlqHeaders, MemoryBus, sleep, verifierFromConfig } from '../src/index.ts'
import {
  capturedLogger,
  overrideBus,
  type ServiceHarness,
  sampleProduct,
  startHarness,
  tempDir,
  waitFor,
} from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'

const seen = (h: ServiceHarness, id: string) =>
  h.svc.store.sqlite.prepare('SELECT id FROM seen WHERE id = ?').get(id) as { id: string } | null

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
async function start(opts: Parameters<typeof startHarness>[1] = {}) {
  const h = await startHarness(definition, opts)
  cleanups.push(() => h.stop())
  return h
}

describe('the service harness', () => {
  test('runs the service on a real SQLite file in a temp dir, removed at stop', async () => {
    const h = await startHarness(definition)
    expect(existsSync(`${h.dir}/product.db`)).toBe(true)
    const r = await h.call('POST', '/api/products', { body: { id: 'lamp' } })
    expect(r.status).toBe(201)
    await h.stop()
    expect(existsSync(h.dir)).toBe(false)
  })

  test('on a directory or a bus of the test, leaves both as they were at stop', async () => {
    const tmp = tempDir()
    cleanups.push(() => tmp.cleanup())
    const bus = new MemoryBus()
    cleanups.push(() => bus.close())
    const h = await startHarness(definition, { dir: tmp.dir, bus })
    await h.stop()
    expect(existsSync(`${tmp.dir}/product.db`)).toBe(true)
    expect(bus.isReady()).toBe(true)
  })

  test('a service that fails to start leaves no temporary directory behind', async () => {
    const own = tempDir()
    cleanups.push(() => own.cleanup())
    const before = process.env.TMPDIR
    process.env.TMPDIR = own.dir
    try {
      await expect(startHarness(definition, { env: { LOG_LEVEL: 'loud' } })).rejects.toThrow(/LOG_LEVEL/)
    } finally {
      if (before === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = before
    }
    expect(readdirSync(own.dir)).toEqual([])
  })

  test('an event sent as its producer would is handled by the service: every copy, applied once', async () => {
    const logs = capturedLogger('product', 'debug')
    const h = await start({ log: logs.log })
    const e = await h.send('product.created', sampleProduct('lamp'), 'lamp')
    expect(e).toMatchObject({ type: 'product.created', source: 'product', subject: 'lamp' })
    await h.settled(e)
    expect(seen(h, 'lamp')).toEqual({ id: 'lamp' })
    const about = logs.lines().filter((l) => l.eventId === e.id && l.group === 'product')
    expect(about.map((l) => l.msg).sort()).toEqual(['duplicate event skipped', 'event applied'])
  })

  test('settled waits for the second copy of a duplicated message, not only the first', async () => {
    // The service's second delivery of each message waits until the test lets it go.
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const inner = new MemoryBus({ duplicateDelivery: true })
    cleanups.push(() => inner.close())
    const copies = new Map<string, number>()
    const bus = overrideBus(inner, {
      subscribe: (o) =>
        inner.subscribe({
          ...o,
          handle: async (d) => {
            const n = (copies.get(`${o.group}/${d.offset}`) ?? 0) + 1
            copies.set(`${o.group}/${d.offset}`, n)
            if (o.group === 'product' && n === 2) await gate
            await o.handle(d)
          },
        }),
    })
    const h = await start({ bus, duplicateDelivery: true })
    const e = await h.send('product.created', sampleProduct('lamp'), 'lamp')
    let settled = false
    const settling = h.settled(e).then(() => {
      settled = true
    })
    await waitFor(() => seen(h, 'lamp'), 'the first copy applied')
    await sleep(100) // several of settled's polls
    expect(settled).toBe(false)
    release()
    await settling
    expect(settled).toBe(true)
  })

  test('apply sends events one after the other, each handled before the next goes', async () => {
    const h = await start()
    const sent = await h.apply(
      ['product.created', sampleProduct('a'), 'a'],
      ['product.created', sampleProduct('b'), 'b'],
    )
    expect(sent.map((e) => e.subject)).toEqual(['a', 'b'])
    expect([seen(h, 'a'), seen(h, 'b')]).toEqual([{ id: 'a' }, { id: 'b' }])
  })

  test('events(): what reached the topics the service publishes, decoded, once each though delivered twice', async () => {
    const h = await start()
    expect((await h.call('POST', '/api/products', { body: { id: 'lamp' } })).status).toBe(201)
    // Same key, same partition: once `b` is observed, both copies of `a` were seen before it.
    const a = await h.send('product.created', sampleProduct('a'), 'k')
    const b = await h.send('product.created', sampleProduct('b'), 'k')
    const ids = () => h.events().map((e) => e.id)
    await waitFor(() => ids().includes(b.id), 'b observed')
    expect(ids().filter((id) => id === a.id || id === b.id)).toEqual([a.id, b.id])
    const created = h.events().find((e) => e.subject === 'lamp')
    expect(created).toMatchObject({ type: 'product.created', source: 'product', data: { id: 'lamp' } })
    expect(h.deliveries().map((d) => d.topic)).toEqual(['product.events', 'product.events', 'product.events'])
    // The outbox: what the service itself committed, in commit order.
    expect(h.outbox().map((e) => e.subject)).toEqual(['lamp'])
  })

  test("deadLetters(): the service's own dead letters, not another group's", async () => {
    const h = await start()
    await h.sendRaw('product.events', 'k', 'not json at all')
    await h.sendRaw('product.events.dlq', 'k', 'someone else', { [dlqHeaders.group]: 'inventory' })
    const marker = await h.send('product.created', sampleProduct('m'), 'k')
    await h.settled(marker)
    const dead = await waitFor(() => (h.deadLetters().length > 0 ? h.deadLetters() : null), 'a dead letter')
    expect(
      dead.map((d) => [d.value, d.headers[dlqHeaders.reason], d.headers[dlqHeaders.group]]),
    ).toContainEqual(['not json at all', 'invalid', 'product'])
    expect(dead.every((d) => d.headers[dlqHeaders.group] === 'product')).toBe(true)
  })

  test('token() signs with the dev key the service verifies with; logs are captured', async () => {
    const h = await start()
    const token = await h.token('admin', { username: 'ada' })
    const verifier = await verifierFromConfig(h.svc.config)
    expect(await verifier.verify(token)).toMatchObject({ role: 'admin', username: 'ada' })
    await h.call('GET', '/api/products/seen/nothing')
    // The access line is written once the answer has gone.
    const line = await waitFor(() => h.logLines().find((l) => l.status === 404), 'the access line')
    expect(line).toMatchObject({ service: 'product', path: '/api/products/seen/nothing' })
    expect(h.logText()).toContain('"status":404')
  })
})
