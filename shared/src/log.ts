import pino, { type Logger } from 'pino'
import pretty from 'pino-pretty'
import { LineWriter } from './log-writer.ts'
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

// Whatever shape a request or an event takes, fields of these names never reach a log line, at
// any depth the scrubbing walks (set-cookie under headers included). Matched here, in the walk every
// line already takes, rather than by pino's redact paths: those are parsed again on every line,
// which cost about 10 µs a line, most of an access line's price.
const REDACTED = new Set([
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'authorization',
  'cookie',
  'set-cookie',
])
const CENSOR = '[redacted]'

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

/**
 * A log line's fields with secret fields censored and credentials masked in every string (Errors
 * are the err serializer's).
 */
function scrubbed(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return withoutCredentials(value)
  if (depth > 4 || value === null || typeof value !== 'object' || value instanceof Error) return value
  if (Array.isArray(value)) return value.map((v) => scrubbed(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue
    out[k] = REDACTED.has(k) ? CENSOR : scrubbed((value as Record<string, unknown>)[k], depth + 1)
  }
  return out
}

/**
 * Where every JSON logger of the process writes: standard output, asynchronously (log-writer.ts),
 * through one writer so that the loggers of the embedded mode never interleave within a line.
 * `flushLogs` writes what is queued: the process calls it before it exits.
 */
let stdout: LineWriter | null = null
function stdoutWriter(): LineWriter {
  stdout ??= new LineWriter(1)
  return stdout
}

/**
 * Writes every queued log line, waiting at most `timeoutMs` for a write under way (a reader that
 * stopped reading must not hold the exit). Call it before `process.exit`, which would drop them.
 */
export async function flushLogs(timeoutMs = 2000): Promise<void> {
  if (!stdout) return
  await stdout.settled(timeoutMs)
  stdout.flushSync()
}

/** The service's root logger: JSON lines with `service` on each, or pretty lines in development. */
export function createLogger(opts: LogOptions): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
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
    // Secret fields by name, and a credential inside any string (a child's bindings: see scrubChildren).
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
  if (opts.destination) return scrubChildren(pino(options, opts.destination))
  // pino-pretty as a synchronous stream, not a worker-thread transport: no lost lines at exit.
  if (opts.pretty)
    return scrubChildren(
      pino(options, pretty({ sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' })),
    )
  return scrubChildren(pino(options, stdoutWriter()))
}

/**
 * A child's bindings go on each of its lines without passing the log formatter: they are scrubbed
 * once, when the child is made. Children inherit `child` from their parent, so theirs are too.
 */
function scrubChildren(root: Logger): Logger {
  const child = root.child
  root.child = function (this: Logger, bindings, options) {
    return child.call(this, scrubbed(bindings) as typeof bindings, options)
  } as typeof child
  return root
}

/** The fields of a flat line: what `infoLine` writes. */
export type FlatFields = Record<string, string | number | boolean | undefined>

// pino's state, through the symbols it publishes for integrations (pino.symbols).
const { streamSym, timeSym, chindingsSym, needsMetadataGsym } = pino.symbols
type Stream = { write(line: string): unknown } & Record<symbol, unknown>

/**
 * One info line of flat fields, the same bytes `log.info(fields, msg)` writes (scrubbed alike, the
 * applied event's trace id included), without pino's per-line machinery: hooks, mixin, formatter,
 * a stringify per field. For the line every request writes: through pino it cost 5-9 µs of a
 * catalogue read's 20, this way 1-2 µs. A destination that wants pino's per-line metadata
 * (pino-pretty) gets the line from pino itself.
 */
export function infoLine(log: Logger, fields: FlatFields, msg: string): void {
  if (!log.isLevelEnabled('info')) return
  const internals = log as unknown as Record<symbol, unknown>
  const stream = internals[streamSym] as Stream
  if (stream[needsMetadataGsym]) return void log.info(fields, msg)
  const traceId = currentTraceId()
  const out: FlatFields = traceId ? { traceId } : {}
  for (const k in fields) {
    const value = fields[k]
    out[k] = REDACTED.has(k) ? CENSOR : typeof value === 'string' ? withoutCredentials(value) : value
  }
  const body = JSON.stringify(out)
  const rest = body.length > 2 ? `,${body.slice(1, -1)}` : ''
  stream.write(
    `{"level":${log.levels.values.info}${(internals[timeSym] as () => string)()}${internals[chindingsSym] as string}${rest},"msg":${JSON.stringify(withoutCredentials(msg))}}\n`,
  )
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
