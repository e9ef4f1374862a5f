// publicJson: an answer anyone may keep, with its ETag, revalidated by If-None-Match. It goes out
// with the platform's own headers (request id, traceparent, CORS) and one access line, like any other.
import { describe, expect, test } from 'bun:test'
import { createHttpApp, noneMatch, publicJson } from '../src/index.ts'
import { capturedLogger } from '../src/testing.ts'

const SHOP = 'https://shop.example.com'
const ETAG = '"abc123"'

function setup() {
  const { log, lines } = capturedLogger('demo')
  const app = createHttpApp({
    service: 'demo',
    log,
    bodyLimit: 2048,
    ready: () => true,
    corsOrigins: [SHOP],
  }).get('/api/things', ({ request, set }) => publicJson(request, set, '{"items":[]}', ETAG))
  const call = (headers: Record<string, string> = {}) =>
    app.handle(new Request('http://demo.test/api/things', { headers }))
  return { call, lines }
}

describe('publicJson', () => {
  test('200 with the body, its ETag, Cache-Control, Vary and the platform headers', async () => {
    const { call, lines } = setup()
    const r = await call({ origin: SHOP, 'x-request-id': 'cache-1' })
    expect(r.status).toBe(200)
    expect(await r.text()).toBe('{"items":[]}')
    expect(r.headers.get('etag')).toBe(ETAG)
    expect(r.headers.get('cache-control')).toBe('public, no-cache')
    expect(r.headers.get('content-type')).toBe('application/json;charset=utf-8')
    // Both what CORS varies on and Authorization.
    expect(r.headers.get('vary')).toBe('Origin, Authorization')
    expect(r.headers.get('access-control-allow-origin')).toBe(SHOP)
    expect(r.headers.get('x-request-id')).toBe('cache-1')
    expect(r.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    await Bun.sleep(10) // the access line is written after the answer
    expect(lines().find((l) => l.requestId === 'cache-1')).toMatchObject({ status: 200, path: '/api/things' })
  })

  test('304 without a body to a client that holds the ETag, with the same headers', async () => {
    const { call, lines } = setup()
    const r = await call({ 'if-none-match': ETAG, origin: SHOP, 'x-request-id': 'cache-2' })
    expect(r.status).toBe(304)
    expect(await r.text()).toBe('')
    expect(r.headers.get('etag')).toBe(ETAG)
    expect(r.headers.get('cache-control')).toBe('public, no-cache')
    expect(r.headers.get('vary')).toBe('Origin, Authorization')
    expect(r.headers.get('x-request-id')).toBe('cache-2')
    await Bun.sleep(10)
    expect(lines().find((l) => l.requestId === 'cache-2')).toMatchObject({ status: 304 })
  })

  test('If-None-Match compares weakly and takes a list or *', () => {
    expect(noneMatch(ETAG, ETAG)).toBe(true)
    expect(noneMatch(`W/${ETAG}`, ETAG)).toBe(true)
    expect(noneMatch(`"x", W/"y" ,${ETAG}`, ETAG)).toBe(true)
    expect(noneMatch('*', ETAG)).toBe(true)
    expect(noneMatch('"abc1234"', ETAG)).toBe(false)
    expect(noneMatch('abc123', ETAG)).toBe(false)
    expect(noneMatch(null, ETAG)).toBe(false)
    expect(noneMatch('', ETAG)).toBe(false)
  })
})
