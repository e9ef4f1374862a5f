import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'
import { currentTraceId } from './trace.ts'

export type { Logger } from 'pino'

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

export interface LogOptions {
  service: string
  level?: LogLevel
  /** Human-readable lines for a terminal; JSON lines otherwise. */
  pretty?: boolean
  /** Where lines go (stdout by default); tests pass a sink to read them. */
  destination?: NodeJS.WritableStream
}

// Whatever shape a request or an event takes, these never reach a log line.
const redact = {
  paths: [
    'password',
    'currentPassword',
    'newPassword',
    'token',
    'accessToken',
    'refreshToken',
    'secret',
    'authorization',
    'cookie',
    '*.password',
    '*.currentPassword',
    '*.newPassword',
    '*.passwordHash',
    '*.token',
    '*.accessToken',
    '*.refreshToken',
    '*.secret',
    '*.authorization',
    '*.cookie',
    'headers["set-cookie"]',
  ],
  censor: '[redacted]',
}

// Credentials a library may quote back in an error message (Stripe's 401 repeats the key it was
// given): Stripe's secret, restricted and webhook keys, and any bearer or basic credential.
// A scheme's credential is 8 or more token characters, not all lower-case letters: "Basic
// authentication" and "Bearer realm=..." are prose, not credentials.
const CREDENTIAL =
  /\b(Bearer|Basic) (?=[a-z-]*[A-Z0-9._~+/=])[A-Za-z0-9._~+/=-]{8,}|\b((?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9_]+/g

/** `text` with every credential in it masked, its kind kept ("sk_test_[redacted]", "Bearer [redacted]"). */
export const withoutCredentials = (text: string): string =>
  text.replace(CREDENTIAL, (_found, scheme?: string, kind?: string) =>
    scheme ? `${scheme} [redacted]` : `${kind}[redacted]`,
  )

/** A log line's fields with credentials masked in every string (Errors are the err serializer's). */
function scrubbed(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return withoutCredentials(value)
  if (depth > 4 || value === null || typeof value !== 'object' || value instanceof Error) return value
  if (Array.isArray(value)) return value.map((v) => scrubbed(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = scrubbed(v, depth + 1)
  return out
}

/** The service's root logger: JSON lines with `service` on each, or pretty lines in development. */
export function createLogger(opts: LogOptions): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
    redact,
    timestamp: pino.stdTimeFunctions.isoTime,
    // A line written while an event or a job is applied says its trace (see inTrace), whichever
    // logger the handler holds; a traceId the line gives itself wins.
    mixin: () => {
      const traceId = currentTraceId()
      return traceId ? { traceId } : {}
    },
    // pino's own `err` serializer writes the stack: ours writes the type and message only, for an
    // Error logged as it is and for what errorFields made.
    serializers: { err: (e: unknown) => (e instanceof Error ? errorFields(e).err : e) },
    // The redaction list covers fields by name; a credential inside a message is masked here.
    formatters: { log: (fields: Record<string, unknown>) => scrubbed(fields) as Record<string, unknown> },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? withoutCredentials(a) : a)),
        )
      },
    },
  }
  if (opts.destination) return pino(options, opts.destination)
  // pino-pretty as a synchronous stream, not a worker-thread transport: no lost lines at exit.
  if (opts.pretty)
    return pino(options, pretty({ sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' }))
  return pino(options)
}

/** An error's message alone, never its stack, cut to `max` characters: what may be stored or shown. */
export const errorMessage = (err: unknown, max = 2000): string =>
  withoutCredentials(err instanceof Error ? err.message : String(err)).slice(0, max)

/**
 * An error for a log line: its type and message. Never its stack: a stack names files, library
 * versions and sometimes values, and the rule is that no stack trace reaches a log. The request
 * id (or event id) beside it is what finds the failure; reproduce it to see the frames.
 */
export const errorFields = (err: unknown) =>
  err instanceof Error ? { err: { type: err.name, message: errorMessage(err) } } : { err: errorMessage(err) }

/**
 * One audit line: an admin action or a security event (a refused login, a lockout, revoked
 * sessions). Always written at info level with `audit` naming the action, so operators can keep
 * these lines apart from the rest; `actor` is the user id behind it (when known), `address` the
 * client address, `target` what it was done to. Never pass a secret: the redaction list still applies.
 */
export function audit(
  log: Logger,
  action: string,
  fields: {
    actor?: string
    target?: string
    address?: string
    outcome?: string
    [key: string]: unknown
  } = {},
): void {
  log.info({ audit: action, ...fields }, `audit: ${action}`)
}
