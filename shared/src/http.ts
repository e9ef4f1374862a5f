import { Elysia, StatusMap, ValidationError } from 'elysia'
import type { Logger } from 'pino'
import type { BaseConfig } from './config.ts'
import { corsOrigins, corsPolicy } from './cors.ts'
import { apiDocs } from './docs.ts'
import {
  type FieldError,
  HttpProblem,
  type Problem,
  type ProblemKind,
  problemOf,
  problemTypes,
} from './errors.ts'
import { logAnswered } from './http-access.ts'
import { parseBody, readText } from './http-body.ts'
import { HEADER_LIMIT, headSize, PARSER_BODY_LIMIT, raiseParserLimits } from './http-limits.ts'
import { hasBody, mediaType, type RouteTable, routeTableOf } from './http-routes.ts'
import { errorFields } from './log.ts'
import { createHttpMetrics, registerApp } from './metrics.ts'
import { clientAddress } from './rate-limit.ts'
import { type TraceContext, traceFrom } from './trace.ts'
import { messageOf } from './value-errors.ts'

/**
 * Whether a service can do all its work now (database open, bus connected). The platform's own
 * also carries `figures()`, the backlog `/ready` shows beside its answer (due and dead jobs, unsent
 * events); a service passes it through to createHttpApp as it got it.
 */
export interface Readiness {
  (): boolean
  figures?: () => object
  /** What keeps it from being ready now (the 503's detail), if it can say. */
  why?: () => string | undefined
}

/** What `ready.figures()` answers, or nothing if it cannot (the database is closing): /ready never fails on it. */
export function figuresOf(ready: Readiness): object {
  try {
    return ready.figures?.() ?? {}
  } catch {
    return {}
  }
}

export interface HttpAppOptions {
  service: string
  log: Logger
  /** Largest accepted request body in bytes (413 beyond it). */
  bodyLimit: number
  /** `/ready` answers 200 only while this holds; its figures go in the body either way. */
  ready: Readiness
  title?: string
  description?: string
  version?: string
  /** Extra OpenAPI document fields (security schemes, tags). */
  documentation?: Record<string, unknown>
  /** Origins of browser front-ends that may call the API (CORS); none by default. */
  corsOrigins?: string[]
  /** Behind a trusted proxy: the client address is the last X-Forwarded-For hop (TRUST_PROXY). */
  trustProxy?: boolean
}

/** The createHttpApp options a service's configuration sets. */
export const httpSettings = (config: BaseConfig) => ({
  bodyLimit: config.HTTP_BODY_LIMIT,
  corsOrigins: corsOrigins(config.CORS_ORIGINS),
  trustProxy: config.TRUST_PROXY,
})

const PROBLEM_JSON = 'application/problem+json'

/**
 * How long a listener lets an event stream go without a byte. Bun's idle timeout (10 s by default,
 * the embedded listener's; 30 s where Elysia listens) is for requests: it cut a stream between two
 * heartbeats (15 s). A stream sends its heartbeat well within this.
 */
export const STREAM_IDLE_SECONDS = 60

/**
 * `response` as it is; when it is an event stream, the listener that received `request` gives it
 * STREAM_IDLE_SECONDS instead of its idle timeout. The embedded listener calls it for the services
 * behind it (their apps have no server of their own), a standalone service's route with Elysia's.
 */
export function keepStreamOpen(
  server: { timeout(request: Request, seconds: number): void } | null | undefined,
  request: Request,
  response: Response,
): Response {
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    server?.timeout(request, STREAM_IDLE_SECONDS)
  }
  return response
}

/** Builds a problem response; only `problem` and the trace headers leave the service. */
export function problemResponse(
  problem: Problem,
  trace?: TraceContext,
  headers: Record<string, string> = {},
): Response {
  const body: Problem = trace ? { ...problem, requestId: trace.requestId } : problem
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: {
      'content-type': PROBLEM_JSON,
      ...(trace ? { 'x-request-id': trace.requestId, traceparent: trace.traceparent } : {}),
      ...headers,
    },
  })
}

/** What a request part failed; the submitted values are left out (they may be passwords). */
function fieldErrors(err: ValidationError, url: string): FieldError[] {
  const seen = new Set<string>()
  const out: FieldError[] = []
  // Elysia checks a query or path value it converted to a number on its own, and reports a
  // failure as part "property" with no name: name it from the request.
  const part = err.type === 'property' ? convertedPart(err.value, new URL(url)) : `/${err.type}`
  for (const e of err.all) {
    const path = `${part}${'path' in e ? e.path : ''}`
    if (seen.has(path)) continue
    seen.add(path)
    out.push({ path, message: 'message' in e ? messageOf(e) : 'is not valid' })
    if (out.length >= 20) break
  }
  return out
}

function convertedPart(value: unknown, url: URL): string {
  const text = String(value)
  const names = [...url.searchParams].filter(([, v]) => v === text || Number(v) === value).map(([k]) => k)
  if (names.length === 1) return `/query/${names[0]}`
  return url.pathname.split('/').includes(text) ? '/params' : '/query'
}

/** The path of a request's URL (already normalised by the Request), without building a URL. */
export const pathOf = (url: string) => {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  const end = url.indexOf('?', start)
  return start < 0 ? '/' : url.slice(start, end < 0 ? undefined : end)
}

// The kind of an error that carries only a status (Elysia's own, a library's). Not 500: an
// unexplained failure is ours, and goes through the logged path below.
const kindByStatus = new Map<number, ProblemKind>(
  (Object.entries(problemTypes) as [ProblemKind, { status: number }][])
    .filter(([kind]) => kind !== 'internal')
    .map(([kind, { status }]) => [status, kind]),
)

/**
 * The Elysia app every service starts from: OpenAPI at /docs (spec at /docs/json), /health and
 * /ready, errors as application/problem+json with a stable `type`, request id and W3C traceparent
 * in and out, a per-request logger, size limits (head, body, JSON depth), CORS, and an access log
 * line per request (audit lines for admin changes and refused access).
 */
export function createHttpApp(opts: HttpAppOptions) {
  raiseParserLimits()
  const cors = corsPolicy(opts.corsOrigins ?? [])
  // Per-request state: the trace, when it started, the client's address and, for problems, the
  // status and detail sent.
  type RequestState = TraceContext & { started: number; address: string; status?: number; detail?: string }
  const states = new WeakMap<Request, RequestState>()
  const traceOf = (request: Request) => {
    let t = states.get(request)
    if (!t) {
      t = { ...traceFrom(request.headers), started: performance.now(), address: 'unknown' }
      states.set(request, t)
    }
    return t
  }
  /** The access line (and audit line): one per request, whichever way it was answered. */
  const logAccess = (request: Request, status: number) => {
    const state = traceOf(request)
    logAnswered(opts.log, {
      request,
      requestId: state.requestId,
      traceId: state.traceId,
      path: pathOf(request.url),
      status,
      ms: Math.round((performance.now() - state.started) * 100) / 100,
      address: state.address,
      detail: state.detail,
    })
  }
  const fail = (request: Request, problem: Problem, headers?: Record<string, string>) => {
    const trace = traceOf(request)
    trace.status = problem.status
    trace.detail = problem.detail
    return problemResponse(problem, trace, headers)
  }

  // The routes are only known once the service has added them: built on first use, and again
  // if routes were added since.
  // This app's own registry (metrics.ts): GET /metrics answers this service's figures only.
  const metrics = createHttpMetrics(opts.service)

  let routeTable: { size: number; table: RouteTable } | null = null
  const routes = () => {
    if (routeTable?.size !== app.routes.length) {
      routeTable = { size: app.routes.length, table: routeTableOf(app.routes) }
    }
    return routeTable.table
  }

  const app = new Elysia({
    // TypeBox's checks before Elysia's normalising: an array or a string where the schema has an
    // object is a 422, never an empty object (that would make `PATCH [1,2]` a successful no-op).
    normalize: 'typebox',
    // Our limits, not Bun's, are the ones a client meets (http-limits.ts).
    serve: { maxRequestBodySize: PARSER_BODY_LIMIT },
  })
    .use(
      apiDocs({
        title: opts.title ?? `Mart ${opts.service} service`,
        description: opts.description ?? '',
        version: opts.version ?? '0.1.0',
        documentation: opts.documentation,
      }),
    )
    .onRequest(({ request, set, server }) => {
      const trace = traceOf(request)
      trace.address = clientAddress(request, server, opts.trustProxy ?? false)
      set.headers['x-request-id'] = trace.requestId
      set.headers.traceparent = trace.traceparent
      // Set first, so that every answer carries them, problems included: a page cannot read an
      // answer without them, not even a 401.
      const origin = request.headers.get('origin')
      Object.assign(set.headers, cors.headers(origin))
      // Thrown, not returned: an answer returned here would skip onError and the access line.
      if (headSize(request) > HEADER_LIMIT) {
        throw new HttpProblem('headers-too-large', `the limit is ${HEADER_LIMIT} bytes`)
      }
      if (cors.isPreflight(request)) {
        const methods = routes().methodsFor(pathOf(request.url))
        const allowed = cors.preflight(origin as string, methods)
        if (!allowed) throw new HttpProblem('forbidden', 'this origin may not call the API')
        if (!methods.length) throw new HttpProblem('not-found')
        logAccess(request, 204)
        return new Response(null, {
          status: 204,
          headers: { ...allowed, 'x-request-id': trace.requestId, traceparent: trace.traceparent },
        })
      }
      // Refused before the body is read; Bun drains what the client still sends.
      const length = Number(request.headers.get('content-length') ?? 0)
      if (length > opts.bodyLimit) {
        throw new HttpProblem('payload-too-large', `the limit is ${opts.bodyLimit} bytes`)
      }
    })
    // Every body goes through this parser, not Elysia's. JSON bodies only, except where a route
    // declares a form (the OAuth2 password grant): a body in another encoding is a 415 that says
    // what to send, not a half-understood request. Then the body is read up to the size limit,
    // and JSON checked for depth, before anything else looks at it.
    .onParse({ as: 'global' }, async ({ request, route }) => {
      if (!hasBody(request)) return
      const type = mediaType(request.headers.get('content-type'))
      const accepted = routes().bodyTypes(request.method, route)
      if (!accepted.includes(type)) {
        throw new HttpProblem('unsupported-media-type', `send the body as ${accepted.join(' or ')}`)
      }
      const text = await readText(request, opts.bodyLimit)
      return routes().raw(request.method, route) ? text : parseBody(type, text)
    })
    .derive({ as: 'global' }, ({ request }) => {
      const trace = traceOf(request)
      return { trace, log: opts.log.child({ requestId: trace.requestId, traceId: trace.traceId }) }
    })
    .onError({ as: 'global' }, ({ code, error, request }) => {
      const trace = traceOf(request)
      const instance = pathOf(request.url)
      if (error instanceof HttpProblem) {
        return fail(request, error.toProblem(instance), error.extra.headers)
      }
      if (error instanceof ValidationError || code === 'VALIDATION') {
        const errors = error instanceof ValidationError ? fieldErrors(error, request.url) : []
        return fail(request, problemOf('validation', undefined, { errors, instance }))
      }
      if (code === 'NOT_FOUND') {
        const allowed = routes().methodsFor(instance)
        if (allowed.length && !allowed.includes(request.method)) {
          return fail(request, problemOf('method-not-allowed', undefined, { instance }), {
            allow: allowed.join(', '),
          })
        }
        return fail(request, problemOf('not-found', undefined, { instance }))
      }
      if (code === 'PARSE') {
        // Elysia wraps whatever a parser throws; ours throws problems (413, 415, too deep).
        const cause = (error as { cause?: unknown }).cause
        if (cause instanceof HttpProblem) return fail(request, cause.toProblem(instance))
        return fail(
          request,
          problemOf('bad-request', 'the body is not valid for its content type', { instance }),
        )
      }
      const status = (error as { status?: unknown }).status
      const kind = typeof status === 'number' ? kindByStatus.get(status) : undefined
      if (kind) return fail(request, problemOf(kind, undefined, { instance }))
      // Anything else is our fault: the details go to the log, never to the client.
      opts.log.error(
        {
          requestId: trace.requestId,
          traceId: trace.traceId,
          method: request.method,
          path: instance,
          ...errorFields(error),
        },
        'request failed',
      )
      return fail(request, problemOf('internal', undefined, { instance }))
    })
    .onAfterResponse({ as: 'global' }, ({ request, set, responseValue, route }) => {
      const trace = traceOf(request)
      const status = trace.status ?? (responseValue instanceof Response ? responseValue.status : set.status)
      const code = typeof status === 'number' ? status : (StatusMap[status as keyof typeof StatusMap] ?? 200)
      logAccess(request, code)
      // The pattern keeps the label set bounded: a path no route matched is one label, not each path.
      metrics.observe(request.method, route || 'unmatched', code, (performance.now() - trace.started) / 1000)
    })
    .get('/health', () => ({ status: 'ok' as const }), { detail: { hide: true } })
    .get(
      '/ready',
      ({ request }) =>
        opts.ready()
          ? { status: 'ready' as const, ...figuresOf(opts.ready) }
          : fail(request, {
              ...problemOf('unavailable', opts.ready.why?.() ?? 'not ready'),
              ...figuresOf(opts.ready),
            }),
      { detail: { hide: true } },
    )
    // Served on the service's own listener only: the gateway and the embedded listener route /api/...
    .get(
      '/metrics',
      async () =>
        new Response(await metrics.registry.metrics(), {
          headers: { 'content-type': metrics.registry.contentType },
        }),
      { detail: { hide: true } },
    )
  registerApp(app, metrics.registry)
  return app
}

export type HttpApp = ReturnType<typeof createHttpApp>
