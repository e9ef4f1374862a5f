// CORS from the allow-list in CORS_ORIGINS: a browser front-end on an allowed origin can call
// the API and read every answer, errors included; any other origin gets nothing to read.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { t } from 'elysia'
import {
  BaseConfig,
  ConfigError,
  corsOrigins,
  createHttpApp,
  createLogger,
  loadConfig,
  problemTypeUri,
  startEmbedded,
  unauthorized,
} from '../src/index.ts'
import { tempDir, testLogger, waitFor } from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'

const SHOP = 'https://shop.example.com'
const EVIL = 'https://evil.example.com'

describe('CORS_ORIGINS', () => {
  test('empty by default: no origin is allowed', () => {
    expect(corsOrigins(loadConfig('demo', BaseConfig, {}).CORS_ORIGINS)).toEqual([])
  })

  test('a comma-separated list of origins, compared as browsers send them', () => {
    const config = loadConfig('demo', BaseConfig, {
      CORS_ORIGINS: 'https://Shop.Example.com, http://localhost:5173 ,https://admin.example.com:443',
    })
    expect(corsOrigins(config.CORS_ORIGINS)).toEqual([
      'https://shop.example.com',
      'http://localhost:5173',
      'https://admin.example.com',
    ])
  })

  test('anything but origins is a configuration error that names the variable', () => {
    for (const bad of [
      'shop.example.com',
      'https://shop.example.com/',
      'https://shop.example.com/app',
      '*',
      'ftp://shop.example.com',
      'https://shop.example.com,,https://b.example.com',
    ]) {
      let error: unknown
      try {
        loadConfig('demo', BaseConfig, { CORS_ORIGINS: bad })
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).problems).toEqual([
        'CORS_ORIGINS: must be origins such as https://shop.example.com, separated by commas',
      ])
    }
  })
})

function setup(origins: string[] = [SHOP]) {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _enc, next) {
      lines.push(JSON.parse(String(chunk)))
      next()
    },
  })
  const log = createLogger({ service: 'demo', level: 'info', destination: sink })
  const app = createHttpApp({
    service: 'demo',
    log,
    bodyLimit: 2048,
    ready: () => true,
    corsOrigins: origins,
  })
    .get('/api/things/:id', ({ params }) => ({ id: params.id }))
    .patch('/api/things/:id', ({ body }) => body, { body: t.Object({ name: t.String({ minLength: 3 }) }) })
    .delete('/api/things/:id', ({ set }) => {
      set.status = 204
    })
    .get('/api/private', () => {
      throw unauthorized('a bearer token is required')
    })
  const call = (path: string, init: RequestInit = {}) =>
    app.handle(new Request(`http://mart.test${path}`, init))
  const preflight = (origin: string, path = '/api/things/t1', method = 'PATCH') =>
    call(path, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization, content-type',
      },
    })
  return { call, preflight, lines }
}

const EXPOSED = 'x-request-id, traceparent, retry-after, location, www-authenticate'

describe('preflight', () => {
  test('from an allowed origin: 204 with the methods of the path, the request headers, a max age and Vary', async () => {
    const { preflight, lines } = setup()
    const res = await preflight(SHOP)
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, PATCH, DELETE')
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, idempotency-key, traceparent, x-request-id',
    )
    expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0)
    expect(res.headers.get('vary')).toContain('Origin')
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    const requestId = res.headers.get('x-request-id')
    await waitFor(
      () => lines.find((l) => l.msg === 'request' && l.requestId === requestId && l.status === 204),
      'the access line',
    )
  })

  test('from any other origin: a 403 problem without CORS headers', async () => {
    const { preflight } = setup()
    const res = await preflight(EVIL)
    expect(res.status).toBe(403)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(((await res.json()) as { type: string }).type).toBe(problemTypeUri('forbidden'))
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('with no origin allowed (the default), OPTIONS stays a 405 with Allow', async () => {
    const { preflight } = setup([])
    const res = await preflight(SHOP)
    expect(res.status).toBe(405)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('requests from a page on another origin', () => {
  test('allowed: the origin echoed (never *), the headers it may read, and Vary: Origin', async () => {
    const { call } = setup()
    const res = await call('/api/things/t1', { headers: { origin: SHOP } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED)
    expect(res.headers.get('vary')).toContain('Origin')
  })

  test('errors carry them too, or the page could not read them: 401, 422, 404, 405', async () => {
    const { call } = setup()
    const answers = [
      await call('/api/private', { headers: { origin: SHOP } }),
      await call('/api/things/t1', {
        method: 'PATCH',
        headers: { origin: SHOP, 'content-type': 'application/json' },
        body: '{"name":"x"}',
      }),
      await call('/api/nothing', { headers: { origin: SHOP } }),
      await call('/api/things/t1', { method: 'PUT', headers: { origin: SHOP } }),
    ]
    expect(answers.map((r) => r.status)).toEqual([401, 422, 404, 405])
    for (const res of answers) {
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP)
      expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED)
    }
  })

  test('from another origin, or none: no CORS headers', async () => {
    const { call } = setup()
    const cases: Record<string, string>[] = [{ origin: EVIL }, {}, { origin: 'null' }]
    for (const headers of cases) {
      const res = await call('/api/things/t1', { headers })
      expect(res.status).toBe(200)
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
      expect(res.headers.get('access-control-expose-headers')).toBeNull()
    }
  })
})

describe('over a real socket', () => {
  const tmp = tempDir()
  let embedded: Awaited<ReturnType<typeof startEmbedded>>
  beforeAll(async () => {
    embedded = await startEmbedded([definition], {
      env: { DATA_DIR: tmp.dir, CORS_ORIGINS: SHOP },
      port: 0,
      log: testLogger(),
    })
  })
  afterAll(async () => {
    await embedded.stop()
    tmp.cleanup()
  })

  test('behind the embedded listener: preflight, then the request and its error, all readable', async () => {
    const pre = await fetch(`${embedded.url}/api/products`, {
      method: 'OPTIONS',
      headers: { origin: SHOP, 'access-control-request-method': 'POST' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST')
    const invalid = await fetch(`${embedded.url}/api/products`, {
      method: 'POST',
      headers: { origin: SHOP, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(invalid.status).toBe(422)
    expect(invalid.headers.get('access-control-allow-origin')).toBe(SHOP)
    const refused = await fetch(`${embedded.url}/api/products`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('a service listening alone', async () => {
    const app = createHttpApp({
      service: 'demo',
      log: testLogger(),
      bodyLimit: 2048,
      ready: () => true,
      corsOrigins: [SHOP],
    })
      .get('/api/things/:id', ({ params }) => ({ id: params.id }))
      .listen({ hostname: '127.0.0.1', port: 0 })
    try {
      const url = `http://127.0.0.1:${app.server?.port}/api/things/t1`
      const pre = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: SHOP, 'access-control-request-method': 'GET' },
      })
      expect(pre.status).toBe(204)
      expect(pre.headers.get('access-control-allow-origin')).toBe(SHOP)
      const res = await fetch(url, { headers: { origin: SHOP } })
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP)
      expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSED)
    } finally {
      await app.stop()
    }
  })
})
