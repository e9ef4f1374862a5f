import type { Static, TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { HttpProblem } from './errors.ts'

const invalidCursor = () =>
  new HttpProblem('validation', 'invalid cursor', {
    errors: [{ path: '/query/cursor', message: 'is not a cursor from this list' }],
  })

/**
 * Opaque keyset-pagination cursors for one key shape: the last row's sort key as base64url JSON.
 * `decode` answers 422 for anything this list could not have made, so a cursor never reaches SQL
 * unchecked.
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
