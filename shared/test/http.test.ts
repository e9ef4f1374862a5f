import { describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { t } from 'elysia'
import { childTraceparent, conflict, createHttpApp, createLogger, problemTypeUri } from '../src/index.ts'

function setup(ready = true) {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const log = createLogger({ service: 'demo', level: 'info', destination: sink })
  const app = createHttpApp({ service: 'demo', log, bodyLimit: 2048, ready: () => ready })
    .post('/api/things', ({ body }) => ({ id: 't1', ...body }), {
      body: t.Object({
        name: t.String({ minLength: 3, maxLength: 20 }),
        password: t.String({ minLength: 8 }),
      }),
    })
    .get('/api/things/taken', () => {
      throw conflict('that name is taken')
    })
    .get('/api/boom', () => {
      throw new Error('secret internals at /srv/db.sqlite')
    })
  const call = (path: string, init?: RequestInit) => app.handle(new Request(`http://mart.test${path}`, init))
  return { call, lines }
}

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as Record<string, unknown>
}

describe('http app factory', () => {
  test('serves a valid request and echoes the request id', async () => {
    const { call } = setup()
    const res = await call('/api/things', {
      ...json({ name: 'lamp', password: 'hunter22' }),
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-123' },
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('req-123')
    expect(await res.json()).toMatchObject({ id: 't1', name: 'lamp' })
  })

  test('answers 422 with the failing fields and never the submitted values', async () => {
    const { call, lines } = setup()
    const res = await call('/api/things', json({ name: 'x', password: 'short' }))
    expect(res.status).toBe(422)
    const body = await problem(res)
    expect(body.type).toBe(problemTypeUri('validation'))
    expect(body.status).toBe(422)
    const paths = (body.errors as { path: string }[]).map((e) => e.path)
    expect(paths).toEqual(expect.arrayContaining(['/body/name', '/body/password']))
    const text = JSON.stringify(body) + lines.join('')
    expect(text).not.toContain('short')
  })

  test('answers 400 for a body that is not JSON', async () => {
    const { call } = setup()
    const res = await call('/api/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    })
    expect(res.status).toBe(400)
    expect((await problem(res)).type).toBe(problemTypeUri('bad-request'))
  })

  test('answers 404 for an unknown route, 409 for a conflict thrown by a route', async () => {
    const { call } = setup()
    const missing = await call('/api/nothing-here')
    expect(missing.status).toBe(404)
    expect((await problem(missing)).type).toBe(problemTypeUri('not-found'))
    const taken = await call('/api/things/taken')
    expect(taken.status).toBe(409)
    expect(await problem(taken)).toMatchObject({
      type: problemTypeUri('conflict'),
      detail: 'that name is taken',
    })
  })

  test('answers 500 without internals and logs the cause inside the service', async () => {
    const { call, lines } = setup()
    const res = await call('/api/boom', { headers: { 'x-request-id': 'boom-1' } })
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).not.toContain('secret internals')
    expect(text).not.toContain('at ')
    expect(JSON.parse(text)).toMatchObject({ type: problemTypeUri('internal'), requestId: 'boom-1' })
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request failed')
    expect(logged).toMatchObject({
      service: 'demo',
      requestId: 'boom-1',
      err: { message: 'secret internals at /srv/db.sqlite' },
    })
    await Bun.sleep(10)
    const access = lines
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'request' && l.requestId === 'boom-1')
    expect(access).toMatchObject({ path: '/api/boom', status: 500 })
  })

  test('refuses a body over the limit with 413', async () => {
    const { call } = setup()
    const body = JSON.stringify({ name: 'big', password: 'x'.repeat(5000) })
    const res = await call('/api/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      body,
    })
    expect(res.status).toBe(413)
    expect((await problem(res)).type).toBe(problemTypeUri('payload-too-large'))
  })

  test('continues the caller trace and starts one when there is none', async () => {
    const { call } = setup()
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const res = await call('/health', { headers: { traceparent: parent } })
    const out = res.headers.get('traceparent') ?? ''
    expect(out).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(out).not.toBe(parent)
    const fresh =
      (await call('/health', { headers: { traceparent: 'garbage' } })).headers.get('traceparent') ?? ''
    expect(fresh).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    expect(fresh).not.toContain('4bf92f3577b34da6a3ce929d0e0e4736')
  })

  test('/health is up while /ready follows the readiness check', async () => {
    expect((await setup(true).call('/ready')).status).toBe(200)
    const notReady = setup(false)
    expect(await (await notReady.call('/health')).json()).toEqual({ status: 'ok' })
    const res = await notReady.call('/ready')
    expect(res.status).toBe(503)
    expect((await problem(res)).type).toBe(problemTypeUri('unavailable'))
  })

  test('documents its routes at /docs with the spec at /docs/json', async () => {
    const { call } = setup()
    const page = await call('/docs')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/html')
    const spec = (await (await call('/docs/json')).json()) as {
      openapi: string
      paths: Record<string, unknown>
    }
    expect(spec.openapi).toStartWith('3.')
    expect(Object.keys(spec.paths)).toContain('/api/things')
    expect(Object.keys(spec.paths)).not.toContain('/health')
  })

  test('logs one line per request with service and request id, and redacts secrets', async () => {
    const { call, lines } = setup()
    await call('/api/things', {
      ...json({ name: 'lamp', password: 'hunter22' }),
      headers: { 'content-type': 'application/json', 'x-request-id': 'log-1' },
    })
    await Bun.sleep(10) // the access line is written after the response
    const access = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.requestId === 'log-1')
    expect(access).toMatchObject({ service: 'demo', method: 'POST', path: '/api/things', status: 200 })
    expect(lines.join('')).not.toContain('hunter22')
  })
})

describe('trace context for events', () => {
  test('work caused by a message keeps its trace with a new span, and drops a malformed one', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const child = childTraceparent(parent) ?? ''
    expect(child).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(child).not.toBe(parent)
    expect(childTraceparent('nonsense')).toBeUndefined()
    expect(childTraceparent(undefined)).toBeUndefined()
  })
})
