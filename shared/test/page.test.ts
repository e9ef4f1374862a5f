import { expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import { createHttpApp, keysetPages, mapPage, PageAnswer } from '../src/index.ts'
import { httpClient, testLogger } from '../src/testing.ts'

// A list of 7 things in id order, paged the way the services page theirs.
const things = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => ({ id, name: `thing ${id}` }))
const pages = keysetPages(Type.String({ minLength: 1, maxLength: 8 }), { size: { default: 3, max: 5 } })
const Thing = Type.Object({ id: Type.String(), name: Type.String() })

const app = createHttpApp({ service: 'demo', log: testLogger(), bodyLimit: 1024, ready: () => true }).get(
  '/api/things',
  ({ query }) => {
    const { limit, after } = pages.read(query)
    const rows = things.filter((t) => after === undefined || t.id > after).slice(0, limit + 1)
    return pages.page(rows, limit, (t) => t.id)
  },
  { query: Type.Object(pages.query), response: { 200: PageAnswer(Thing) } },
)
const call = httpClient(app)

test('walks a list page by page: the default size, then the next cursor until there is none', async () => {
  const seen: string[] = []
  let path = '/api/things'
  const sizes: number[] = []
  for (;;) {
    const r = await call('GET', path)
    expect(r.status).toBe(200)
    sizes.push(r.body.items.length)
    seen.push(...r.body.items.map((t: { id: string }) => t.id))
    if (r.body.nextCursor === null) break
    path = `/api/things?cursor=${r.body.nextCursor}`
  }
  expect(sizes).toEqual([3, 3, 1])
  expect(seen).toEqual(things.map((t) => t.id))

  // A page that ends exactly at the end of the list has no next cursor.
  expect((await call('GET', `/api/things?limit=5&cursor=${cursorAfter('b')}`)).body).toEqual({
    items: things.slice(2),
    nextCursor: null,
  })
})

test('a limit outside 1..max or a cursor this list did not make is a 422 that names the field', async () => {
  for (const limit of ['0', '6', 'x']) {
    const r = await call('GET', `/api/things?limit=${limit}`)
    expect(r.status).toBe(422)
    expect(r.body.errors[0].path).toBe('/query/limit')
  }
  for (const cursor of [
    'not-base64-json',
    cursorAfter('much too long'),
    Buffer.from('{').toString('base64url'),
  ]) {
    const r = await call('GET', `/api/things?cursor=${cursor}`)
    expect(r.status).toBe(422)
    expect(r.body.errors).toEqual([{ path: '/query/cursor', message: 'is not a cursor from this list' }])
  }
})

test('the document shows the limit bounds, the cursor and the page answer', async () => {
  const doc = (await call('GET', '/docs/json')).body
  const op = doc.paths['/api/things'].get
  const param = (name: string) => op.parameters.find((p: { name: string }) => p.name === name)?.schema
  expect(param('limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 })
  expect(param('cursor')).toMatchObject({ type: 'string', maxLength: 200 })
  const answer = op.responses[200].content['application/json'].schema
  expect(Object.keys(answer.properties)).toEqual(['items', 'nextCursor'])
})

test('mapPage turns each item of a page into its view and keeps the cursor', () => {
  expect(mapPage({ items: things.slice(0, 2), nextCursor: 'c' }, (t) => t.name)).toEqual({
    items: ['thing a', 'thing b'],
    nextCursor: 'c',
  })
})

/** The cursor the list hands out after the thing with `id`. */
const cursorAfter = (id: string) => Buffer.from(JSON.stringify(id)).toString('base64url')
