/** Stable problem types (RFC 9457): clients switch on `type`, never on `title` or `detail`. */
export const problemTypes = {
  validation: { status: 422, title: 'Request is not valid' },
  'bad-request': { status: 400, title: 'Request could not be read' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'headers-too-large': { status: 431, title: 'Request headers too large' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Service unavailable' },
  'stripe-unavailable': { status: 503, title: 'Stripe is not available' },
} as const
export type ProblemKind = keyof typeof problemTypes

export const problemTypeUri = (kind: ProblemKind) => `urn:mart:problem:${kind}`

export interface FieldError {
  /** JSON pointer into the request part, e.g. `/body/email`. */
  path: string
  message: string
}

export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  requestId?: string
  errors?: FieldError[]
}

/** The body of a problem of `kind`: every problem a Mart process answers is built here. */
export function problemOf(
  kind: ProblemKind,
  detail?: string,
  more: Pick<Problem, 'errors' | 'instance'> = {},
): Problem {
  const p: Problem = {
    type: problemTypeUri(kind),
    title: problemTypes[kind].title,
    status: problemTypes[kind].status,
  }
  if (detail) p.detail = detail
  if (more.errors) p.errors = more.errors
  if (more.instance) p.instance = more.instance
  return p
}

/** Throw from a route to answer with a problem; `detail` must be safe to show a client. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem'
  readonly status: number
  constructor(
    readonly kind: ProblemKind,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? problemTypes[kind].title)
    this.status = problemTypes[kind].status
  }

  /** Its body, about the request to `instance`. */
  toProblem(instance?: string): Problem {
    return problemOf(this.kind, this.detail, { errors: this.extra.errors, instance })
  }
}

export const notFound = (detail?: string) => new HttpProblem('not-found', detail)
export const conflict = (detail?: string) => new HttpProblem('conflict', detail)
export const forbidden = (detail?: string) => new HttpProblem('forbidden', detail)
export const unauthorized = (detail?: string) =>
  new HttpProblem('unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } })
export const validationProblem = (errors: FieldError[], detail?: string) =>
  new HttpProblem('validation', detail, { errors })

/** `row` itself, or a 404 saying `detail` ("no such product") when there is none. */
export function found<T>(row: T | undefined | null, detail: string): T {
  if (row === undefined || row === null) throw notFound(detail)
  return row
}
