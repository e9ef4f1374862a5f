// The two integer schemas of a route, named for where the integer is, so that no route has to
// remember which `Integer` to use:
// - QueryInteger, in a query string or a path, as a person writes one: decimal digits. Elysia's
//   own (t.Integer, and t.Number, which it turns into t.Numeric there) reads the text with
//   `+value`, so 0x10, 1e1 and "  5" passed as 16, 10 and 5, and a failure said "Expected union value".
// - BodyInteger, in a JSON body (a request's or an answer's): a JSON number with no fraction.
//   Elysia's t.Integer would also take the string "5" there.
import { Kind, type TSchema, Type, TypeRegistry } from '@sinclair/typebox'

const KIND = 'MartQueryInteger'

export interface IntegerBounds {
  minimum?: number
  maximum?: number
  description?: string
}

interface QueryIntegerSchema extends TSchema {
  [Kind]: typeof KIND
  minimum: number
  maximum: number
}

const SIGNED_DIGITS = /^-?[0-9]+$/

const isQueryInteger = (schema: unknown): schema is QueryIntegerSchema =>
  (schema as { [Kind]?: unknown } | undefined)?.[Kind] === KIND

/** The number `value` writes, or undefined unless it is decimal digits with a minus at most. */
function numberOf(value: unknown): number | undefined {
  // Elysia decodes a query twice: the second time the value is already a number.
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined
  return typeof value === 'string' && SIGNED_DIGITS.test(value) ? Number(value) : undefined
}

const negativeRefused = (schema: QueryIntegerSchema, value: unknown) =>
  schema.minimum >= 0 && typeof value === 'string' && value.startsWith('-')

TypeRegistry.Set<QueryIntegerSchema>(KIND, (schema, value) => {
  const n = numberOf(value)
  return n !== undefined && !negativeRefused(schema, value) && n >= schema.minimum && n <= schema.maximum
})

/**
 * A query or path integer: decimal digits only, a leading minus only where `minimum` allows
 * negatives; the handler gets a number. /docs/json shows an integer with its bounds. Bounds
 * stay within what a double holds exactly, so digits beyond it are out of bounds, not rounded.
 */
export function QueryInteger(bounds: IntegerBounds = {}) {
  const schema = Type.Unsafe<number>({
    [Kind]: KIND,
    type: 'integer',
    ...bounds,
    minimum: Math.max(bounds.minimum ?? Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    maximum: Math.min(bounds.maximum ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  })
  return Type.Transform(schema)
    .Decode((value: unknown) => numberOf(value) as number)
    .Encode((n) => n)
}

/** What a failed QueryInteger says, or undefined for any other schema. */
export function queryIntegerMessage(schema: unknown, value: unknown): string | undefined {
  if (!isQueryInteger(schema)) return undefined
  const n = numberOf(value)
  if (n === undefined) return 'must be an integer in decimal digits'
  if (n < schema.minimum || negativeRefused(schema, value)) return `must be at least ${schema.minimum}`
  return `must be at most ${schema.maximum}`
}

/** An integer in a JSON body or answer: a JSON number with no fraction, within `bounds`; never a string. */
export const BodyInteger = (bounds: IntegerBounds = {}) => Type.Integer(bounds)
