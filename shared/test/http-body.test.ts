// How createHttpApp reads request bodies: JSON depth bounded before anything else looks at the
// value, and media types compared case-insensitively.
import { describe, expect, test } from 'bun:test'
import { t } from 'elysia'
import { createHttpApp, problemTypeUri } from '../src/index.ts'
import { testLogger } from '../src/testing.ts'

const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

function setup() {
  const app = createHttpApp({ service: 'demo', log: testLogger(), bodyLimit: 200_000, ready: () => true })
    .post('/api/things', ({ body }) => ({ name: body.name }), {
      body: t.Object({ name: t.String({ maxLength: 100 }) }),
    })
    // Takes any JSON: what reaches it passed the depth check.
    .post('/api/anything', () => ({ ok: true }), { body: t.Unknown() })
    .post('/api/forms', ({ body }) => body, {
      parse: 'urlencoded',
      body: t.Object({ username: t.String() }),
    })
  return (path: string, body: string, type = 'application/json') =>
    app.handle(
      new Request(`http://mart.test${path}`, { method: 'POST', headers: { 'content-type': type }, body }),
    )
}

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toBe('application/problem+json')
  return (await res.json()) as Record<string, unknown>
}

describe('JSON nesting depth', () => {
  test('50,000 nested arrays on a route that wants an object: a 400 problem, not a 500', async () => {
    const send = setup()
    const res = await send('/api/things', nestedArrays(50_000))
    expect(res.status).toBe(400)
    expect(await problem(res)).toMatchObject({
      type: problemTypeUri('bad-request'),
      detail: 'the JSON body is nested deeper than 64 levels',
    })
  })

  test('64 levels of arrays or objects pass the depth check; 65 do not', async () => {
    const send = setup()
    for (const nested of [nestedArrays, nestedObjects]) {
      expect((await send('/api/anything', nested(64))).status).toBe(200)
      const deeper = await send('/api/anything', nested(65))
      expect(deeper.status).toBe(400)
      expect((await problem(deeper)).type).toBe(problemTypeUri('bad-request'))
    }
  })

  test('brackets and braces inside strings (escaped quotes too) do not count', async () => {
    const send = setup()
    const name = `\\"${'[{'.repeat(45)}`
    const res = await send('/api/things', `{"name":"${name}"}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ name: JSON.parse(`"${name}"`) })
  })

  test('a body that is not JSON is still a 400', async () => {
    const send = setup()
    const res = await send('/api/things', '{"name":')
    expect(res.status).toBe(400)
    expect((await problem(res)).type).toBe(problemTypeUri('bad-request'))
  })
})

describe('media types are case-insensitive', () => {
  test('APPLICATION/JSON is JSON', async () => {
    const send = setup()
    for (const type of ['APPLICATION/JSON', 'Application/Json; Charset=UTF-8']) {
      const res = await send('/api/things', '{"name":"lamp"}', type)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ name: 'lamp' })
    }
  })

  test('APPLICATION/X-WWW-FORM-URLENCODED is the form a route declares', async () => {
    const send = setup()
    const res = await send('/api/forms', 'username=ann', 'APPLICATION/X-WWW-FORM-URLENCODED')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ username: 'ann' })
  })
})
