// The real Caddy on the root Caddyfile in front of services listening on their own ports, as in the
// distributed mode: routing, docs, the not-found problem, X-Forwarded-For, an unbuffered stream, and a
// stream its client left ended upstream too.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { MemoryBus, type RunningService, startService } from '@mart/shared'
import { capturedLogger, describeCaddy, devTokenSigner, tempDir, waitFor } from '@mart/shared/testing'
import { definition as inventory } from '../../inventory/src/index.ts'
import { definition as order } from '../../order/src/index.ts'
import { definition as product } from '../../product/src/index.ts'
import { type RunningCaddy, startCaddy } from '../../scripts/caddy.ts'
import { expectLiveOrderStream, unpaidLampOrder } from './listener.ts'

const freePort = () => {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

describeCaddy('the gateway (Caddy) in front of services on their own ports', () => {
  let tmp: ReturnType<typeof tempDir>
  let bus: MemoryBus
  const logs = new Map<string, ReturnType<typeof capturedLogger>>()
  const running: RunningService[] = []
  let caddy: RunningCaddy
  const aborts: AbortController[] = []

  beforeAll(async () => {
    tmp = tempDir('mart-gateway-')
    bus = new MemoryBus({})
    const upstreams: Record<string, string> = {}
    for (const def of [product, inventory, order]) {
      const captured = capturedLogger(def.name)
      logs.set(def.name, captured)
      const env = { NODE_ENV: 'test', DATA_DIR: tmp.dir, HOST: '127.0.0.1', TRUST_PROXY: 'true' }
      // biome-ignore lint/suspicious/noExplicitAny: each service has its own schema and config types
      const service = await startService(def as any, { env, bus, log: captured.log })
      service.app.listen({ hostname: '127.0.0.1', port: 0 })
      running.push(service)
      upstreams[def.name] = `127.0.0.1:${service.app.server?.port}`
    }
    // The user service is not running: its upstream is a closed port.
    upstreams.user = `127.0.0.1:${freePort()}`
    caddy = await startCaddy({
      // Under the services' own limit (1 MiB), so that a body between the two meets Caddy's.
      env: { ...process.env, GATEWAY_BODY_LIMIT: '100KB' },
      port: freePort(),
      upstreams,
      logFile: join(tmp.dir, 'caddy.log'),
    })
  }, 60_000)

  afterAll(async () => {
    for (const a of aborts) a.abort()
    await caddy?.stop()
    for (const s of running) {
      s.endStreams()
      await s.app.stop()
      await s.stop()
    }
    await bus?.close()
    tmp?.cleanup()
  }, 60_000)

  const call = (path: string, token: string | null, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${caddy.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    })

  test('/api/products reaches the product service; /api/product/docs its docs; /health and /docs answer', async () => {
    const list = await call('/api/products', null)
    expect(list.status).toBe(200)
    expect(await list.json()).toHaveProperty('items')
    const docs = await call('/api/product/docs/json', null)
    expect(docs.status).toBe(200)
    expect(((await docs.json()) as { openapi: string }).openapi).toStartWith('3.')
    // /api/inventory/docs belongs to the docs, not to the /api/inventory prefix.
    expect((await call('/api/inventory/docs/json', null)).status).toBe(200)
    expect((await call('/api/product/docs', null)).status).toBe(200)
    expect(await (await call('/health', null)).json()).toEqual({ status: 'ok' })
    const index = await call('/docs', null)
    expect(index.headers.get('content-type')).toStartWith('text/html')
    expect(await index.text()).toContain('href="/api/order/docs"')
  })

  test('an unknown path is the not-found problem', async () => {
    for (const path of ['/nowhere', '/api/productsx', '/api/product']) {
      const res = await call(path, null)
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(await res.json()).toMatchObject({ type: 'urn:mart:problem:not-found', status: 404 })
    }
  })

  test("/metrics is the services' own: the gateway does not route it, their own ports do", async () => {
    for (const path of ['/metrics', '/api/order/metrics']) {
      expect({ path, status: (await call(path, null)).status }).toEqual({ path, status: 404 })
    }
    // Under a service's prefix the path goes through as it is, to that service's own /api/... routes
    // (an order or a product called "metrics"), never to its /metrics.
    for (const path of ['/metrics', '/api/order/metrics', '/api/orders/metrics', '/api/products/metrics']) {
      expect(await (await call(path, null)).text()).not.toContain('mart_http_requests_total')
    }
    const own = await fetch(`http://127.0.0.1:${running[0]?.app.server?.port}/metrics`)
    expect(own.status).toBe(200)
    expect(await own.text()).toContain('mart_http_requests_total')
  })

  test("Caddy's own failures are problems: a body over its limit, a service it cannot reach", async () => {
    const big = await fetch(`${caddy.url}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(500_000),
    })
    expect(big.status).toBe(413)
    expect(await big.json()).toMatchObject({ type: 'urn:mart:problem:payload-too-large', status: 413 })
    const down = await call('/api/users/me', null)
    expect(down.status).toBe(503)
    expect(down.headers.get('content-type')).toBe('application/problem+json')
    expect(await down.json()).toMatchObject({ type: 'urn:mart:problem:unavailable', status: 503 })
  })

  test("the service sees the client's address from X-Forwarded-For, never one the client made up", async () => {
    // From 127.0.0.2 (curl can choose its source address; fetch cannot): Caddy reaches the service
    // from 127.0.0.1, so only X-Forwarded-For can tell the service 127.0.0.2.
    const marker = crypto.randomUUID()
    // Not spawnSync: the service answers from this very process.
    const curl = Bun.spawn([
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '--interface',
      '127.0.0.2',
      '-H',
      'X-Forwarded-For: 203.0.113.9',
      '-H',
      `X-Request-Id: ${marker}`,
      `${caddy.url}/api/products?marker=${marker}`,
    ])
    expect(await new Response(curl.stdout).text()).toBe('200')
    const line = await waitFor(
      () =>
        logs
          .get('product')
          ?.lines()
          .find((l) => JSON.stringify(l).includes(marker)),
      'the access line of the request',
    )
    expect(line.address).toBe('127.0.0.2')
  })

  test("an order's stream arrives event by event through Caddy, not when the response ends", async () => {
    const sign = await devTokenSigner(tmp.dir)
    const admin = await sign('admin')
    const alice = await sign('user', { sub: crypto.randomUUID() })
    const id = await unpaidLampOrder(call, admin, alice)

    const abort = new AbortController()
    aborts.push(abort)
    const res = await fetch(`${caddy.url}/api/orders/${id}/stream`, {
      headers: { authorization: `Bearer ${alice}`, accept: 'text/event-stream' },
      signal: abort.signal,
    })
    // A buffering proxy would hold the events back until the response ends.
    await expectLiveOrderStream(res, () =>
      call(`/api/orders/${id}/cancel`, alice, { method: 'POST', body: {} }),
    )
  }, 60_000)

  test('a client that leaves a stream through Caddy frees its place in the service, without waiting for a heartbeat', async () => {
    const sign = await devTokenSigner(tmp.dir)
    const admin = await sign('admin')
    const alice = await sign('user', { sub: crypto.randomUUID() })
    const id = await unpaidLampOrder(call, admin, alice)
    const follow = async () => {
      const abort = new AbortController()
      aborts.push(abort)
      const res = await fetch(`${caddy.url}/api/orders/${id}/stream`, {
        headers: { authorization: `Bearer ${alice}`, accept: 'text/event-stream' },
        signal: abort.signal,
      })
      return { res, abort }
    }
    // A person may hold five streams (the service's per-user bound); the sixth is refused.
    const open = []
    for (let i = 0; i < 5; i++) open.push(await follow())
    expect(open.map((o) => o.res.status)).toEqual([200, 200, 200, 200, 200])
    expect((await follow()).res.status).toBe(429)

    // The client closes its connection to Caddy, and that is all. Caddy must end its request to the
    // service with it: one that only notices when it next writes to the gone client (a heartbeat,
    // 15 s) keeps the place taken for two heartbeats or more, past this wait.
    open[0]?.abort.abort()
    await waitFor(async () => {
      const next = await follow()
      if (next.res.status === 200) return true
      await next.res.body?.cancel()
      return false
    }, 'the service to end the stream its client left, and give the place back')
  }, 60_000)
})
