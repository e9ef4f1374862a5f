// Integers in a JSON body are JSON numbers with no fraction: "5" or 5.5 is a 422, never coerced
// (Elysia's own t.Integer would take "5"), and the bounds are in /docs/json.
import { expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { BodyInteger, createHttpApp } from '../src/index.ts'
import { httpClient, testLogger } from '../src/testing.ts'

const app = createHttpApp({ service: 'demo', log: testLogger(), bodyLimit: 1024, ready: () => true }).post(
  '/api/adjustments',
  ({ body }) => ({ delta: body.delta, typeOf: typeof body.delta }),
  { body: Type.Object({ delta: BodyInteger({ minimum: -10, maximum: 10, description: 'units' }) }) },
)
const call = httpClient(app)

test('a JSON integer within the bounds reaches the handler as a number', async () => {
  const r = await call('POST', '/api/adjustments', { body: { delta: -3 } })
  expect(r.status).toBe(200)
  expect(r.body).toEqual({ delta: -3, typeOf: 'number' })
})

test('a numeric string, a fraction or a value out of bounds is a 422 naming the field', async () => {
  for (const delta of ['5', 5.5, 11, -11, null]) {
    const r = await call('POST', '/api/adjustments', { body: { delta } })
    expect(r.status).toBe(422)
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/body/delta'])
  }
})

test('/docs/json documents it as an integer with its bounds', async () => {
  const doc = (await call('GET', '/docs/json')).body
  const schema = doc.paths['/api/adjustments'].post.requestBody.content['application/json'].schema
  expect(schema.properties.delta).toEqual({
    type: 'integer',
    minimum: -10,
    maximum: 10,
    description: 'units',
  })
})
