import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ORIGIN_LIST_PATTERN } from './cors.ts'
import { LiteralUnion } from './events/enums.ts'
import { logLevels } from './log.ts'
import { choices } from './value-errors.ts'

/** The settings every service reads; each service adds its own with `serviceConfig`. */
export const BaseConfig = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
  }),
  LOG_LEVEL: LiteralUnion(logLevels, { default: 'info' }),
  /** Pretty log lines; defaults to on in development on a terminal. */
  LOG_PRETTY: Type.Optional(Type.Boolean()),
  /** Where SQLite files (and, in embedded mode, keys and mail) live. */
  DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  /** Comma-separated host:port list; empty means the in-process bus (embedded mode). */
  KAFKA_BROKERS: Type.String({ default: '', pattern: '^$|^[^\\s,]+:\\d+(,[^\\s,]+:\\d+)*$' }),
  KAFKA_TOPIC_PARTITIONS: Type.Integer({ minimum: 1, maximum: 256, default: 3 }),
  KAFKA_REPLICATION_FACTOR: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
  KAFKA_TOPIC_PREFIX: Type.String({ default: '', pattern: '^[a-zA-Z0-9._-]*$', maxLength: 100 }),
  /** Public keys that verify access tokens: a JWK set, a JWK or SPKI PEMs, or @file. Generated in development. */
  JWT_PUBLIC_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  JWT_ISSUER: Type.String({ minLength: 1, default: 'mart' }),
  JWT_AUDIENCE: Type.String({ minLength: 1, default: 'mart' }),
  /** Behind the gateway: take the client address from the last X-Forwarded-For hop. */
  TRUST_PROXY: Type.Boolean({ default: false }),
  /** Origins of browser front-ends that may call the API (CORS), comma-separated; none by default. */
  CORS_ORIGINS: Type.String({
    default: '',
    pattern: ORIGIN_LIST_PATTERN,
    errorMessage: 'must be origins such as https://shop.example.com, separated by commas',
  }),
  /** Largest request body accepted, in bytes. */
  HTTP_BODY_LIMIT: Type.Integer({ minimum: 1024, maximum: 100 * 1024 * 1024, default: 1024 * 1024 }),
  /** WAL checkpoints run on a worker thread every this many ms (0: SQLite's own, on the writer). */
  SQLITE_CHECKPOINT_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 250 }),
  OUTBOX_RETENTION_HOURS: Type.Number({ exclusiveMinimum: 0, default: 168 }),
  INBOX_RETENTION_HOURS: Type.Number({ exclusiveMinimum: 0, default: 168 }),
  /** Jobs a service runs at once. */
  JOBS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  /** How long a picked job is its runner's; renewed while it runs. A job whose process died runs again after it. */
  JOBS_LEASE_SECONDS: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
  /** How long done jobs are kept. */
  JOBS_RETENTION_HOURS: Type.Number({ exclusiveMinimum: 0, default: 168 }),
  /** How long a stopping service waits for in-flight work before it exits anyway. */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, maximum: 120_000, default: 10_000 }),
})
export type BaseConfig = Static<typeof BaseConfig>

/** The base settings plus a service's own, with its own port default. */
export const serviceConfig = <P extends TProperties>(port: number, own: P) =>
  Type.Composite([
    BaseConfig,
    Type.Object({ PORT: Type.Integer({ minimum: 0, maximum: 65535, default: port }) }),
    Type.Object(own),
  ])

/** A configuration that cannot be used; the message lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration for ${service}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
}

type Env = Record<string, string | undefined>

/** One variable that cannot be used, and why: never its value (it may be a secret). */
interface Problem {
  key: string
  message: string
}

/**
 * The names the original project used for some settings, read when ours is not set: its
 * compose files and deployments keep working (`KAFKA_BOOTSTRAP_SERVERS` is `KAFKA_BROKERS`).
 */
export const settingAliases: Record<string, string> = { KAFKA_BROKERS: 'KAFKA_BOOTSTRAP_SERVERS' }

/** A setting from `env`: its own variable, or the variable it is also known by. */
export function settingOf(env: Env, key: string): string | undefined {
  const own = env[key]
  const alias = settingAliases[key]
  return (own === undefined || own === '') && alias && env[alias] ? env[alias] : own
}

/**
 * Reads the variables `schema` names from `env`, converts strings to numbers and booleans and
 * applies defaults; answers the value and every problem with it.
 */
function read<S extends TObject>(schema: S, env: Env): { value: Static<S>; problems: Problem[] } {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(schema.properties)) {
    const v = settingOf(env, key)
    if (v !== undefined && v !== '') raw[key] = v
    else if (v === '' && schema.properties[key]?.type === 'string') raw[key] = v
  }
  // TypeBox turns "18101.5", "8e3" and "true" into the integers 18101, 8 and 1: for an integer
  // setting only digits are a number, anything else stays a string and fails as one.
  const notIntegers = Object.entries(raw).filter(
    ([key, v]) => schema.properties[key]?.type === 'integer' && !/^\s*-?\d+\s*$/.test(String(v)),
  )
  const converted = Value.Convert(schema, raw) as Record<string, unknown>
  for (const [key, v] of notIntegers) converted[key] = v
  const value = Value.Default(schema, converted)
  const problems = [...Value.Errors(schema, value)].map((e) => {
    const key = e.path.replace(/^\//, '') || '(root)'
    const property = schema.properties[key] as TSchema & { errorMessage?: string }
    const message = property?.errorMessage ?? choices(property) ?? e.message
    return { key, message: raw[key] === undefined ? `missing (${message})` : message }
  })
  return { value: value as Static<S>, problems }
}

const line = (p: Problem, name = p.key) => `${name}: ${p.message}`

/**
 * Reads the variables `schema` names from `env`, converts strings to numbers and booleans,
 * applies defaults and validates. Throws ConfigError listing every bad or missing variable.
 * Values are never echoed back: a bad variable may hold a secret.
 */
export function loadConfig<S extends TObject>(service: string, schema: S, env: Env = process.env): Static<S> {
  const { value, problems } = read(schema, env)
  if (problems.length > 0) throw new ConfigError(service, [...new Set(problems.map((p) => line(p)))])
  return value
}

/** One service's configuration, as one of several started together reads it. */
export interface ServiceConfigSource {
  service: string
  schema: TObject
  env: Env
  /** Settings read from another variable than their own name (distributed mode: PORT from PRODUCT_PORT). */
  readFrom?: Record<string, string>
}

/**
 * Validates the configuration of several services before any of them starts, and throws one
 * ConfigError listing every problem: one with a variable `shared` reads, and every service reads
 * alike, once under its own name; one with a service's own setting named with its service
 * ("PASSWORD_TIME_COST (user)"), or by the variable it is read from ("PRODUCT_PORT").
 */
export function checkServiceConfigs(
  scope: string,
  shared: { schema: TObject; env: Env },
  services: ServiceConfigSource[],
): void {
  const lines = read(shared.schema, shared.env).problems.map((p) => line(p))
  const reported = new Set(lines)
  for (const { service, schema, env, readFrom } of services) {
    for (const p of read(schema, env).problems) {
      const from = readFrom?.[p.key]
      if (from) lines.push(line(p, from))
      else if (!reported.has(line(p))) lines.push(line(p, `${p.key} (${service})`))
    }
  }
  if (lines.length > 0) throw new ConfigError(scope, [...new Set(lines)])
}

/** loadConfig for a service's entry point: a bad configuration prints one message and exits. */
export function bootConfig<S extends TObject>(service: string, schema: S, env = process.env): Static<S> {
  try {
    return loadConfig(service, schema, env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}
