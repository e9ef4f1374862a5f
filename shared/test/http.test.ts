import { describe, expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { t } from 'elysia'
import {
  childTraceparent,
  conflict,
  createHttpApp,
  createLogger,
  found,
  HttpProblem,
  NoContent,
  problemOf,
  problems,
  problemTypeUri,
} from '../src/index.ts'

function setup(ready = true) {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const log = createLogger({ service: 'demo', level: 'info', destination: sink })
  const names = new Map([['t1', 'lamp']])
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
    .patch(
      '/api/things/:id',
      ({ params, body }) => {
        if (body.name) names.set(params.id, body.name)
        return { id: params.id, name: names.get(params.id) ?? '' }
      },
      {
        params: t.Object({ id: t.String() }),
        body: t.Object({ name: t.Optional(t.String({ minLength: 3 })) }),
        response: { 200: t.Object({ id: t.String(), name: t.String() }), ...problems(409) },
        detail: { security: [{ bearer: [] }] },
      },
    )
    .delete(
      '/api/things/:id',
      ({ set }) => {
        set.status = 204
      },
      { response: { ...NoContent, ...problems(409) } },
    )
    .post('/api/forms', ({ body }) => body, {
      parse: 'urlencoded',
      body: t.Object({ username: t.String() }),
    })
    .get('/api/pages/:n', ({ params, query }) => ({ n: params.n, limit: query.limit ?? 10 }), {
      params: t.Object({ n: t.Integer({ maximum: 5 }) }),
      query: t.Object({
        limit: t.Optional(t.Integer({ minimum: 1, maximum: 100 })),
        q: t.Optional(t.String()),
      }),
    })
    .get('/api/profile', () => ({ id: 'u1', passwordHash: '$argon2id$v=19$secret' }), {
      response: { 200: t.Object({ id: t.String() }) },
    })
    .get('/api/boom', () => {
      throw new Error('secret internals at /srv/db.sqlite')
    })
  const call = (path: string, init?: RequestInit) => app.handle(new Request(`http://mart.test${path}`, init))
  return { call, lines, names }
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

  test('an answer carries only what its schema names: a field a handler leaks is dropped', async () => {
    const { call } = setup()
    const res = await call('/api/profile')
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('{"id":"u1"}')
  })

  test('a query or path number out of its range is a 422 that names where it was', async () => {
    const { call } = setup()
    expect((await call('/api/pages/2?limit=50&q=1000')).status).toBe(200)
    const limit = await problem(await call('/api/pages/2?limit=1000&q=x'))
    expect(limit.errors).toEqual([
      { path: '/query/limit', message: 'Expected integer to be less or equal to 100' },
    ])
    const page = await problem(await call('/api/pages/9'))
    expect(page.errors).toEqual([{ path: '/params', message: 'Expected integer to be less or equal to 5' }])
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

  test('an array, a string or null where the body is an object: 422, and nothing changes', async () => {
    const { call, names } = setup()
    for (const body of ['[{"name":"chair"}]', '"chair"', 'null']) {
      const res = await call('/api/things/t1', {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body,
      })
      expect(res.status).toBe(422)
      expect((await problem(res)).errors).toEqual([{ path: '/body', message: 'Expected object' }])
    }
    expect(names.get('t1')).toBe('lamp')
  })

  test('bodies are JSON unless a route declares a form: anything else is a 415 that says what to send', async () => {
    const { call, names } = setup()
    const send = (path: string, method: string, body: string, type?: string) =>
      call(path, { method, body, headers: type ? { 'content-type': type } : {} })
    for (const [type, body] of [
      ['text/plain;charset=UTF-8', '{"name":"chair"}'],
      ['application/x-www-form-urlencoded', 'name=chair'],
      [
        'multipart/form-data; boundary=b',
        '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nchair\r\n--b--',
      ],
      [undefined, '{"name":"chair"}'],
    ] as const) {
      const res = await send('/api/things/t1', 'PATCH', body, type)
      expect(res.status).toBe(415)
      expect(await problem(res)).toMatchObject({
        type: problemTypeUri('unsupported-media-type'),
        detail: 'send the body as application/json',
      })
    }
    expect(names.get('t1')).toBe('lamp')
    const ok = await send('/api/things/t1', 'PATCH', '{"name":"chair"}', 'application/json; charset=utf-8')
    expect(ok.status).toBe(200)

    expect(
      (await send('/api/forms', 'POST', 'username=ann', 'application/x-www-form-urlencoded')).status,
    ).toBe(200)
    const jsonToForm = await send('/api/forms', 'POST', '{"username":"ann"}', 'application/json')
    expect(jsonToForm.status).toBe(415)
    expect((await problem(jsonToForm)).detail).toBe('send the body as application/x-www-form-urlencoded')
    // No body, no content type needed.
    expect((await call('/api/things/t1', { method: 'DELETE' })).status).toBe(204)
  })

  test('a method the path does not serve: 405 with Allow; a path nobody serves: 404', async () => {
    const { call } = setup()
    const res = await call('/api/things/t1', {
      method: 'PUT',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('PATCH, DELETE')
    expect((await problem(res)).type).toBe(problemTypeUri('method-not-allowed'))
    expect((await call('/api/nothing/here')).status).toBe(404)
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
      err: { type: 'Error', message: 'secret internals at /srv/db.sqlite' },
    })
    // The cause, not a stack trace: no stack ever reaches a log line.
    expect(Object.keys(logged.err)).toEqual(['type', 'message'])
    expect(JSON.stringify(logged)).not.toMatch(/\n\s+at /)
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

  test('the /docs page loads Swagger UI from the service itself, never from another host', async () => {
    const { call } = setup()
    const page = await (await call('/docs')).text()
    const urls = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
    expect(urls.sort()).toEqual(['docs/assets/swagger-ui-bundle.js', 'docs/assets/swagger-ui.css'])
    expect(page).not.toMatch(/https?:\/\//)
    for (const [file, type] of [
      ['swagger-ui-bundle.js', 'text/javascript'],
      ['swagger-ui.css', 'text/css'],
    ]) {
      const res = await call(`/docs/assets/${file}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toStartWith(type as string)
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000)
    }
    // Only those two files of the package are served.
    for (const file of ['package.json', 'index.html', '..%2F..%2Fpackage.json']) {
      expect((await call(`/docs/assets/${file}`)).status).toBe(404)
    }
  })

  test('the document says what the routes do: JSON bodies, and the problems each route can answer', async () => {
    const { call } = setup()
    type Op = {
      requestBody?: { content: Record<string, unknown> }
      responses: Record<string, { description?: string; content?: object }>
    }
    const spec = (await (await call('/docs/json')).json()) as {
      paths: Record<string, Record<string, Op>>
      components: { schemas: Record<string, { properties?: object }> }
    }
    const patch = spec.paths['/api/things/{id}']?.patch as Op
    expect(Object.keys(patch.requestBody?.content ?? {})).toEqual(['application/json'])
    // Declared (409), implied by a body (400, 413, 415, 422), a path parameter (404) and a token (401).
    expect(Object.keys(patch.responses).sort()).toEqual([
      '200',
      '400',
      '401',
      '404',
      '409',
      '413',
      '415',
      '422',
    ])
    expect(patch.responses['409']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    })
    expect(Object.keys(spec.components.schemas.Problem?.properties ?? {})).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'errors']),
    )
    const del = spec.paths['/api/things/{id}']?.delete as Op
    expect(del.responses['204']).toEqual({ description: 'No content' })
    const form = spec.paths['/api/forms']?.post as Op
    expect(Object.keys(form.requestBody?.content ?? {})).toEqual(['application/x-www-form-urlencoded'])
    // The document is served twice from the generator's cache: completing it again changes nothing.
    expect(await (await call('/docs/json')).json()).toEqual(spec)
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

describe('problems', () => {
  test('one body per kind, the same whether a route throws it or the platform builds it', () => {
    const errors = [{ path: '/body/name', message: 'is too short' }]
    expect(problemOf('validation', 'check the name', { errors, instance: '/api/things' })).toEqual({
      type: 'urn:mart:problem:validation',
      title: 'Request is not valid',
      status: 422,
      detail: 'check the name',
      errors,
      instance: '/api/things',
    })
    expect(new HttpProblem('validation', 'check the name', { errors }).toProblem('/api/things')).toEqual(
      problemOf('validation', 'check the name', { errors, instance: '/api/things' }),
    )
    expect(problemOf('internal')).toEqual({
      type: 'urn:mart:problem:internal',
      title: 'Internal error',
      status: 500,
    })
  })

  test('found() hands a row through and turns a missing one into a 404 that says what is missing', () => {
    const row = { id: 'lamp' }
    expect(found(row, 'no such thing')).toBe(row)
    expect(found(0, 'no such thing')).toBe(0)
    for (const missing of [undefined, null]) {
      let thrown: unknown
      try {
        found(missing, 'no such thing')
      } catch (err) {
        thrown = err
      }
      expect(thrown).toBeInstanceOf(HttpProblem)
      expect((thrown as HttpProblem).toProblem()).toEqual(problemOf('not-found', 'no such thing'))
    }
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
