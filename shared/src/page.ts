// Keyset pagination, the one way every list pages: the request is `{ limit, cursor }`, the answer
// `{ items, nextCursor }`, and the cursor is the last row's sort key, opaque to the client and
// checked on its way back in. A page is read with limit + 1 rows: the extra row says there is more.
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { HttpProblem } from './errors.ts'
import { QueryInteger } from './integers.ts'

/** How many items a page holds when the client does not say, and at most. */
export interface PageSize {
  default: number
  max: number
}

/** A page's request, as the query schema of `keysetPages(...).query` decodes it. */
export interface PageRequest {
  limit?: number | undefined
  cursor?: string | undefined
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/** The same page with each item turned into what the answer shows (a row into its view). */
export const mapPage = <T, U>(page: Page<T>, f: (item: T) => U): Page<U> => ({
  items: page.items.map(f),
  nextCursor: page.nextCursor,
})

/** The answer of a list: a page of `item`. */
export const PageAnswer = <I extends TSchema>(item: I) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) })

/** A 422 at /query/cursor: what a client may be told about a cursor it should not have sent. */
export const invalidCursor = (message = 'is not a cursor from this list') =>
  new HttpProblem('validation', 'invalid cursor', { errors: [{ path: '/query/cursor', message }] })

/**
 * Opaque cursors for one key shape: the key as base64url JSON. `decode` answers 422 for anything
 * this list could not have made, so a cursor never reaches SQL unchecked.
 */
export function cursorCodec<S extends TSchema>(schema: S) {
  const check = TypeCompiler.Compile(schema)
  return {
    encode: (key: Static<S>): string => Buffer.from(JSON.stringify(key)).toString('base64url'),
    decode(cursor: string): Static<S> {
      let key: unknown
      try {
        key = JSON.parse(Buffer.from(cursor, 'base64url').toString())
      } catch {
        throw invalidCursor()
      }
      if (!check.Check(key)) throw invalidCursor()
      return key
    },
  }
}

export interface KeysetPagesOptions {
  /** 20 items by default, 100 at most, unless a list says otherwise. */
  size?: PageSize
  /** The longest cursor accepted (a longer one is a 422 before it is decoded). */
  cursorMaxLength?: number
}

/**
 * The paging of one list whose rows are ordered by `key` (an id, or a tuple of sort value and id):
 * `query` to spread into the route's query schema, `read` for the limit and the key to start
 * after, `page` to cut the rows read (limit + 1 of them) into the answer.
 */
export function keysetPages<K extends TSchema>(key: K, opts: KeysetPagesOptions = {}) {
  const size = opts.size ?? { default: 20, max: 100 }
  const cursors = cursorCodec(key)
  return {
    query: {
      limit: Type.Optional(QueryInteger({ minimum: 1, maximum: size.max })),
      cursor: Type.Optional(Type.String({ maxLength: opts.cursorMaxLength ?? 200 })),
    },
    read(request: PageRequest): { limit: number; after: Static<K> | undefined } {
      return {
        limit: request.limit ?? size.default,
        after: request.cursor ? cursors.decode(request.cursor) : undefined,
      }
    },
    page<R>(rows: R[], limit: number, keyOf: (row: R) => Static<K>): Page<R> {
      const items = rows.slice(0, limit)
      const last = items.at(-1)
      return { items, nextCursor: rows.length > limit && last ? cursors.encode(keyOf(last)) : null }
    },
  }
}
