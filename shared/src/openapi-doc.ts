import { type TSchema, Type } from '@sinclair/typebox'
import { type ProblemKind, problemTypes } from './errors.ts'

/** Every error body (RFC 9457), as the OpenAPI document shows it. */
export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'stable: `urn:mart:problem:<kind>`; switch on this' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.Optional(Type.String()),
  instance: Type.Optional(Type.String({ description: 'the request path' })),
  requestId: Type.Optional(Type.String()),
  errors: Type.Optional(
    Type.Array(
      Type.Object({
        path: Type.String({ description: 'JSON pointer into the request part, e.g. /body/email' }),
        message: Type.String(),
      }),
    ),
  ),
})

type Status = (typeof problemTypes)[ProblemKind]['status']

/**
 * Problems a route answers beyond the ones its shape implies (see `completeDocument`), for its
 * `response` map: `response: { 201: Product, ...problems(409) }`.
 */
export function problems(...statuses: Status[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema]))
}

/** The success response of a route that answers 204, for its `response` map. */
export const NoContent = { 204: Type.Undefined({ description: 'No content' }) }

/** OpenAPI extension a guard sets on an operation that needs the admin role. */
export const REQUIRES_ROLE = 'x-mart-requires-role'

const titleOf = new Map<number, string>(Object.values(problemTypes).map((p) => [p.status, p.title]))
const problemRef = { $ref: '#/components/schemas/Problem' }
/** The OpenAPI response object of a problem status. */
const documentedProblem = (status: number) => ({
  description: titleOf.get(status) ?? 'Problem',
  content: { 'application/problem+json': { schema: problemRef } },
})

interface Operation {
  parameters?: { in: string }[]
  requestBody?: { content?: Record<string, unknown> }
  security?: unknown[]
  responses?: Record<string, unknown>
  [REQUIRES_ROLE]?: string
}
interface Document {
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, unknown> }
}

/**
 * Makes the generated document say what the services do. Request bodies are JSON only (the
 * generator also lists form encodings, which `createHttpApp` answers with 415), and every
 * operation lists the problems its shape implies: 422 for any input, 400/413/415 for a body,
 * 404 for a path parameter, 401 behind a token and 403 behind the admin role. Error responses a
 * route declares itself get the problem schema. Idempotent: the generator caches the document.
 */
export function completeDocument<D>(doc: D): D {
  if (typeof doc !== 'object' || doc === null) return doc
  const d = doc as Document
  for (const [path, operations] of Object.entries(d.paths ?? {})) {
    for (const op of Object.values(operations)) {
      const content = op.requestBody?.content
      if (content?.['application/json']) {
        delete content['application/x-www-form-urlencoded']
        delete content['multipart/form-data']
      }
      const implied: number[] = []
      if (op.requestBody) implied.push(400, 413, 415, 422)
      else if (op.parameters?.length) implied.push(422)
      if (path.includes('{')) implied.push(404)
      if (op.security?.length) implied.push(401)
      if (op[REQUIRES_ROLE]) implied.push(403)
      op.responses ??= {}
      if (op.responses[204]) op.responses[204] = { description: 'No content' }
      for (const status of Object.keys(op.responses).map(Number)) {
        if (status >= 400) op.responses[status] = documentedProblem(status)
      }
      for (const status of implied) op.responses[status] ??= documentedProblem(status)
    }
  }
  d.components ??= {}
  d.components.schemas = { ...d.components.schemas, Problem: ProblemSchema }
  return doc
}
