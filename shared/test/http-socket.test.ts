// What a client on a real socket gets for requests Bun's own HTTP parser has an opinion about:
// bodies over the limit (with a length or chunked), oversized headers, methods. Each answer
// our code can give is a problem with an access line, both from a service listening alone
// (app.listen, as runStandalone does) and behind the embedded listener.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { t } from 'elysia'
import { createHttpApp, createLogger, HEADER_LIMIT, problemTypeUri, startEmbedded } from '../src/index.ts'
import { tempDir, waitFor } from '../src/testing.ts'
import { definition } from './fixtures/demo-service.ts'

const BODY_LIMIT = 2048

/** Sends `request` as it is and answers what came back until the server closed or went quiet. */
function exchange(port: number, request: string): Promise<{ raw: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let raw = ''
    let timer: Timer | undefined
    const done = (closed: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ raw, closed })
    }
    socket.on('data', (d) => {
      raw += d.toString('latin1')
      // One whole response with a body is enough; keep-alive would leave the socket open.
      const head = raw.indexOf('\r\n\r\n')
      const length = /content-length: (\d+)/i.exec(raw)?.[1]
      if (head >= 0 && length !== undefined && raw.length >= head + 4 + Number(length)) done(false)
    })
    socket.on('close', () => done(true))
    socket.on('error', () => done(true))
    timer = setTimeout(() => done(false), 3000)
    socket.write(request)
  })
}

/** Status, headers (lower-cased names) and body of a raw HTTP/1.1 response. */
function parse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n', 2)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  )
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

function logSink() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _enc, next) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
      next()
    },
  })
  return { lines, log: createLogger({ service: 'demo', level: 'info', destination: stream }) }
}

const post = (path: string, headers: string, body = '') =>
  `POST ${path} HTTP/1.1\r\nHost: mart.test\r\nConnection: close\r\n${headers}\r\n${body}`
const chunked = (body: string) => `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
const bigJson = JSON.stringify({ id: 'x'.repeat(BODY_LIMIT * 2) })

/** The cases, run against both ways of serving. `path` takes a JSON body `{ id }`. */
function suite(
  name: string,
  start: () => Promise<{ port: number; lines: Record<string, unknown>[]; path: string }>,
) {
  describe(name, () => {
    let port: number
    let lines: Record<string, unknown>[]
    let path: string
    beforeAll(async () => {
      ;({ port, lines, path } = await start())
    })

    async function expectProblem(
      request: string,
      status: number,
      kind: Parameters<typeof problemTypeUri>[0],
    ) {
      const { raw } = await exchange(port, request)
      const res = parse(raw)
      expect(res.status).toBe(status)
      expect(res.headers['content-type']).toBe('application/problem+json')
      expect(JSON.parse(res.body)).toMatchObject({ type: problemTypeUri(kind), status })
      const requestId = res.headers['x-request-id']
      expect(requestId).toBeDefined()
      const access = await waitFor(
        () => lines.find((l) => l.msg === 'request' && l.requestId === requestId),
        'the access line',
      )
      expect(access).toMatchObject({ status })
      return res
    }

    test('a body over the limit with a Content-Length: 413 problem and an access line', async () => {
      await expectProblem(
        post(path, `Content-Type: application/json\r\nContent-Length: ${bigJson.length}\r\n`, bigJson),
        413,
        'payload-too-large',
      )
    })

    test('a chunked body over the limit, with no Content-Length: 413 problem and an access line', async () => {
      await expectProblem(
        post(path, 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', chunked(bigJson)),
        413,
        'payload-too-large',
      )
    })

    test('headers over our limit: 431 problem and an access line', async () => {
      const header = `X-Filler: ${'a'.repeat(HEADER_LIMIT)}\r\n`
      await expectProblem(post(path, `Content-Length: 0\r\n${header}`), 431, 'headers-too-large')
    })

    test("headers past Bun's own parser limit (4x ours): Bun answers a bare 431 before any of our code", async () => {
      const { raw } = await exchange(port, post(path, `X-Filler: ${'a'.repeat(HEADER_LIMIT * 4)}\r\n`))
      const res = parse(raw)
      expect(res.status).toBe(431)
      expect(res.headers['content-type']).toBeUndefined()
    })

    test('a method the path does not serve (PURGE): 405 problem with Allow and an access line', async () => {
      const res = await expectProblem(post(path, '').replace('POST', 'PURGE'), 405, 'method-not-allowed')
      expect(res.headers.allow).toBe('POST')
    })

    test('a method Bun does not know (FOO): Bun closes the connection unanswered (oven-sh/bun#6556)', async () => {
      const { raw, closed } = await exchange(port, post(path, '').replace('POST', 'FOO'))
      expect({ raw, closed }).toEqual({ raw: '', closed: true })
    })
  })
}

const servers: { stop(): Promise<void> | void }[] = []
afterAll(async () => {
  for (const s of servers) await s.stop()
})

suite('a service listening alone', async () => {
  const { lines, log } = logSink()
  const app = createHttpApp({ service: 'demo', log, bodyLimit: BODY_LIMIT, ready: () => true })
    .post('/api/things', ({ body }) => body, { body: t.Object({ id: t.String() }) })
    .listen({ hostname: '127.0.0.1', port: 0 })
  servers.push({
    async stop() {
      await app.stop()
    },
  })
  return { port: app.server?.port as number, lines, path: '/api/things' }
})

suite('behind the embedded listener', async () => {
  const { lines, log } = logSink()
  const tmp = tempDir()
  const mart = await startEmbedded([definition], {
    env: { DATA_DIR: tmp.dir, HTTP_BODY_LIMIT: String(BODY_LIMIT) },
    port: 0,
    log,
  })
  servers.push({
    async stop() {
      await mart.stop()
      tmp.cleanup()
    },
  })
  return { port: Number(new URL(mart.url).port), lines, path: '/api/products' }
})
