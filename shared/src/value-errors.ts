// What a failed TypeBox check says, to a client (a 422's errors) or an operator (a bad setting),
// where TypeBox's own words say nothing useful.
import type { TSchema } from '@sinclair/typebox'
import { queryIntegerMessage } from './integers.ts'

/** "must be one of: a, b" for a union of literals, where TypeBox would say "Expected union value". */
export function choices(schema: TSchema | undefined): string | undefined {
  const options = (schema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf
  if (!options?.every((o) => o.const !== undefined)) return undefined
  return `must be one of: ${options.map((o) => String(o.const)).join(', ')}`
}

/** The message for one failed check (a TypeBox ValueError). */
export const messageOf = (error: { schema: TSchema; value: unknown; message: string }): string =>
  queryIntegerMessage(error.schema, error.value) ?? choices(error.schema) ?? error.message
