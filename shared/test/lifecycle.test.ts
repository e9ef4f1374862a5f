import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { MemoryBus, openStore, outboxStatements, startEmbedded, startService } from '../src/index.ts'
import { overrideBus, tempDir, testLogger, waitFor } from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'
import { spawnStandalone } from './support/standalone.ts'

describe('embedded mode', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('serves each service under its gateway prefix and runs its handlers on the in-process bus', async () => {
    const mart = await startEmbedded([definition], { env: { DATA_DIR: tmp.dir }, port: 0, log: testLogger() })
    try {
      const created = await fetch(`${mart.url}/api/products`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': 'req-42',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
        body: JSON.stringify({ id: 'lamp' }),
      })
      expect(created.status).toBe(201)
      // The event went through the outbox and the bus, and kept the request id as correlation.
      const seen = await waitFor(async () => {
        const r = await fetch(`${mart.url}/api/products/seen/lamp`)
        return r.status === 200 ? r.json() : null
      }, 'the event handled')
      expect(seen).toEqual({ id: 'lamp', correlationId: 'req-42' })
      // The request's trace travels with the event as a Kafka-style header.
      const row = mart.services[0]?.store.sqlite.prepare('SELECT headers FROM mart_outbox').get() as {
        headers: string
      }
      expect(JSON.parse(row.headers)).toMatchObject({
        'event-type': 'product.created',
        traceparent: expect.stringMatching(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/),
      })

      const docs = await fetch(`${mart.url}/api/product/docs/json`)
      expect(docs.status).toBe(200)
      expect(Object.keys(((await docs.json()) as { paths: object }).paths)).toContain('/api/products')
      expect((await fetch(`${mart.url}/api/product/docs`)).headers.get('content-type')).toContain('text/html')
      expect((await fetch(`${mart.url}/ready`)).status).toBe(200)
      const unknown = await fetch(`${mart.url}/api/orders`)
      expect(unknown.status).toBe(404)
      expect(unknown.headers.get('content-type')).toBe('application/problem+json')
      expect(await unknown.json()).toEqual({
        type: 'urn:mart:problem:not-found',
        title: 'Not found',
        status: 404,
        instance: '/api/orders',
      })
    } finally {
      await mart.stop()
    }
  })
})

describe('declared consumers', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  const start = (consumes: typeof definition.consumes) =>
    startService(
      { ...definition, consumes },
      { env: { DATA_DIR: tmp.dir }, bus: new MemoryBus(), log: testLogger() },
    )

  test('a service whose handlers differ from what it declares it consumes does not start', async () => {
    // The demo service handles product.created only.
    const refused = start(['product.updated', 'product.deleted'])
    await expect(refused).rejects.toThrow(
      'product: its handlers differ from what it declares it consumes (definition.consumes): ' +
        'handled but not declared: product.created; declared but not handled: product.updated, product.deleted',
    )
    await expect(start([])).rejects.toThrow('handled but not declared: product.created')
    // The platform's own consumption (user.sessions_revoked, for the auth layer) is not the service's.
    await expect(start(['product.created', 'user.sessions_revoked'])).rejects.toThrow(
      /declares it consumes .*: declared but not handled: user.sessions_revoked$/,
    )
  })

  test('a service that declares exactly what it handles starts', async () => {
    const service = await start(['product.created'])
    expect(service.ready()).toBe(true)
    await service.stop()
  })
})

describe('readiness', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('/ready answers 503 saying the bus is away while the bus cannot reach its broker, 200 once it can', async () => {
    let reachable = true
    const bus = overrideBus(new MemoryBus(), { isReady: () => reachable })
    const service = await startService(definition, { env: { DATA_DIR: tmp.dir }, bus, log: testLogger() })
    try {
      const ready = async () => {
        const res = await service.app.handle(new Request('http://service/ready'))
        return { status: res.status, body: await res.json() }
      }
      expect(await ready()).toEqual({
        status: 200,
        body: { status: 'ready', bus: 'connected', jobs: { due: 0, dead: 0 }, outbox: { pending: 0 } },
      })
      reachable = false
      expect(await ready()).toMatchObject({
        status: 503,
        body: {
          type: 'urn:mart:problem:unavailable',
          detail: 'the bus is away',
          bus: 'away',
          jobs: { due: 0, dead: 0 },
          outbox: { pending: 0 },
        },
      })
      reachable = true
      expect((await ready()).status).toBe(200)
    } finally {
      await service.stop()
    }
  })
})

describe('standalone service', () => {
  let tmp: ReturnType<typeof tempDir>
  beforeEach(() => {
    tmp = tempDir()
  })
  afterEach(() => tmp.cleanup())

  test('on SIGTERM finishes in-flight requests, flushes the outbox and exits 0', async () => {
    const { url, lines, terminate } = await spawnStandalone('demo-service.ts', tmp.dir)
    const slow = fetch(`${url}/api/products/slow?ms=500`)
    await Bun.sleep(100)
    const created = await fetch(`${url}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'last' }),
    })
    expect(created.status).toBe(201)
    const exited = terminate()
    const res = await slow
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ slept: true })
    expect(await exited).toBe(0)
    expect(lines.map((l) => l.msg)).toContain('stopped')
    const db = openStore({ file: join(tmp.dir, 'product.db'), source: 'product' })
    expect(outboxStatements(db).countPending.get()?.n).toBe(0)
    db.close()
  })
})
