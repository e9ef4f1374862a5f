import { AsyncLocalStorage } from 'node:async_hooks'

/** What identifies one request across services and logs. */
export interface TraceContext {
  requestId: string
  traceId: string
  spanId: string
  /** W3C traceparent for this hop: the caller's trace id, our span id. */
  traceparent: string
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex')

/** Continues the caller's trace when its headers are well formed; starts a new one otherwise. */
export function traceFrom(headers: Headers): TraceContext {
  const incoming = TRACEPARENT.exec(headers.get('traceparent') ?? '')
  const traceId = incoming && !/^0+$/.test(incoming[1] as string) ? (incoming[1] as string) : hex(16)
  const flags = incoming?.[3] ?? '01'
  const spanId = hex(8)
  const given = headers.get('x-request-id')
  return {
    requestId: given && REQUEST_ID.test(given) ? given : crypto.randomUUID(),
    traceId,
    spanId,
    traceparent: `00-${traceId}-${spanId}-${flags}`,
  }
}

/** The traceparent for work caused by a message: same trace, a new span; none if `parent` is not valid. */
export function childTraceparent(parent: string | undefined): string | undefined {
  const m = TRACEPARENT.exec(parent ?? '')
  return m ? `00-${m[1]}-${hex(8)}-${m[3]}` : undefined
}

/** The trace id of a traceparent, for log lines; none if it is not valid. */
export const traceIdOf = (traceparent: string | null | undefined): string | undefined =>
  TRACEPARENT.exec(traceparent ?? '')?.[1]

// The trace of the event or job being applied, for the lines the service's own logger writes meanwhile.
const applying = new AsyncLocalStorage<string>()

/** Runs `fn` (and what it awaits) with `traceparent`'s trace id on every line a service logger writes. */
export function inTrace<R>(traceparent: string | null | undefined, fn: () => R): R {
  const traceId = traceIdOf(traceparent)
  return traceId ? applying.run(traceId, fn) : fn()
}

/** The trace id `inTrace` set, if any. */
export const currentTraceId = (): string | undefined => applying.getStore()

/** Events staged while serving a request: they correlate with it and carry its trace. */
export const requestContext = (trace?: TraceContext) =>
  trace ? { correlationId: trace.requestId, traceparent: trace.traceparent } : undefined
