// The uuid, email and date-time checks every route and event validates with are ours once an app
// is built: loading @elysiajs/openapi (docs.ts) replaces uuid and email with checks that build a
// Zod schema per call, microseconds on every request with an id in it.
import { expect, test } from 'bun:test'
import { FormatRegistry, Type } from '@sinclair/typebox'
import { ownFormats } from '../src/events/formats.ts'
import { createHttpApp } from '../src/index.ts'
import { httpClient, testLogger } from '../src/testing.ts'

const app = createHttpApp({ service: 'demo', log: testLogger(), bodyLimit: 1024, ready: () => true }).get(
  '/api/things/:id',
  ({ params }) => ({ id: params.id }),
  { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) },
)
const call = httpClient(app)

test('after an app is built, the registered uuid, email and date-time checks are ours', () => {
  for (const name of ['uuid', 'email', 'date-time']) {
    expect(FormatRegistry.Get(name)).toBe(ownFormats[name] as (value: string) => boolean)
  }
})

const samples = {
  uuid: {
    valid: [
      '0192f3a4-5b6c-7d8e-9f01-23456789abcd',
      'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ],
    invalid: [
      '',
      'not-a-uuid',
      '0192f3a4-5b6c-0d8e-9f01-23456789abcd', // version 0
      '0192f3a4-5b6c-7d8e-cf01-23456789abcd', // variant c
      'urn:uuid:0192f3a4-5b6c-7d8e-9f01-23456789abcd',
      '0192f3a45b6c7d8e9f0123456789abcd',
      ' 0192f3a4-5b6c-7d8e-9f01-23456789abcd',
    ],
  },
  email: {
    valid: ['someone@example.com', "o'brien+tag@mail.example.co.uk", 'A.B-c_d@x-y.io'],
    invalid: [
      '',
      'someone',
      'someone@example',
      '.someone@example.com',
      'some..one@example.com',
      'someone.@example.com',
      'some one@example.com',
      'a@b@example.com',
      'someone@-example.com',
      'someone@example-.com',
      'someone@example.c0m',
    ],
  },
  'date-time': {
    valid: [
      '2025-01-02T03:04:05.678Z',
      '2024-02-29T23:59:59+05:30',
      '2025-12-31t00:00:00-23:59',
      '2025-01-02T03:04:05.123456789Z',
    ],
    invalid: [
      '',
      '2025-01-02',
      '2025-01-02T03:04Z', // no seconds
      '2025-01-02T03:04:05', // no zone
      '2025-01-02 03:04:05Z',
      '2025-02-29T00:00:00Z',
      '2025-04-31T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-01-01T24:00:00Z',
      '2025-01-01T00:00:60Z',
      '2025-01-01T00:00:00+0530',
      'Wed Jan 01 2025 00:00:00 GMT+0000',
    ],
  },
}

test('they accept and refuse what they should', () => {
  for (const [name, { valid, invalid }] of Object.entries(samples)) {
    const check = FormatRegistry.Get(name) as (value: string) => boolean
    expect({ name, accepted: valid.filter((v) => !check(v)) }).toEqual({ name, accepted: [] })
    expect({ name, refused: invalid.filter((v) => check(v)) }).toEqual({ name, refused: [] })
  }
})

test('a route checks a uuid parameter with them', async () => {
  expect((await call('GET', '/api/things/0192f3a4-5b6c-7d8e-9f01-23456789abcd')).status).toBe(200)
  for (const id of ['not-a-uuid', '0192f3a4-5b6c-0d8e-9f01-23456789abcd']) {
    const r = await call('GET', `/api/things/${id}`)
    expect(r.status).toBe(422)
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/params/id'])
  }
})
