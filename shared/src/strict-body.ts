// Elysia's normalising (createHttpApp's `normalize: 'typebox'`) drops the fields a body schema does
// not name before it validates. Where a stray field means the client believes something we will
// not do (a price in an order line: prices come from the catalogue), that must be a 422, not a
// silent drop. `strictBody` notes them in `transform`, which runs before the cleaning, and refuses
// them in `beforeHandle`: after the auth guard (a caller without access learns nothing of the
// route's input rules) and after the route's validation.
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { ValueErrorType } from '@sinclair/typebox/errors'
import { type FieldError, validationProblem } from './errors.ts'

const strays = new WeakMap<Request, FieldError[]>()

/**
 * Route options for a body whose objects refuse unknown fields (`additionalProperties: false` on
 * each): `{ ...strictBody(schema) }` in place of `body: schema`. Other mistakes are left to the
 * route's own validation, so a client meets one set of messages.
 */
export function strictBody<S extends TSchema>(schema: S) {
  const check = TypeCompiler.Compile(schema)
  return {
    body: schema,
    transform({ body, request }: { body: unknown; request: Request }) {
      if (body === undefined || body === null || typeof body !== 'object') return
      // A body that passes has no stray field. Listing errors walks the body with TypeBox's
      // interpreted checker, five times the compiled check: only a body that fails pays for it.
      if (check.Check(body)) return
      const unknown = [...check.Errors(body)]
        .filter((e) => e.type === ValueErrorType.ObjectAdditionalProperties)
        .slice(0, 10)
        .map((e) => ({ path: `/body${e.path}`, message: 'is not a field this request takes' }))
      if (unknown.length > 0) strays.set(request, unknown)
    },
    beforeHandle({ request }: { request: Request }) {
      const unknown = strays.get(request)
      if (unknown) throw validationProblem(unknown)
    },
  }
}
