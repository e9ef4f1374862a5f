import { describe, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { SignJWT } from 'jose'
import pino from 'pino'
import type { Role } from './auth.ts'
import type { Bus, Delivery } from './bus/types.ts'
import type { EventData } from './events/catalog.ts'
import { ensureDevKeys, JWT_ALG, loadSigningKey } from './keys.ts'
import { createLogger } from './log.ts'
import { sleep } from './retry.ts'

/** A fresh directory under the system temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'mart-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A logger that writes nothing (LOG_LEVEL=debug in the environment turns test logs on). */
export const testLogger = (service = 'test') =>
  pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent', base: { service } })

/**
 * A logger whose JSON lines the test can read back (the service's own logger, redaction
 * included). TEST_LOG_LEVEL=debug prints them as well.
 */
export function capturedLogger(service = 'test') {
  const raw: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk))
      if (process.env.TEST_LOG_LEVEL) process.stdout.write(chunk)
      done()
    },
  })
  return {
    log: createLogger({ service, level: 'info', destination: sink }),
    /** Every line so far, as written. */
    text: () => raw.join(''),
    /** Every line so far, parsed. */
    lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v) return v as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** The brokers of the test Kafka (set by `bun run test` when it started one). */
export const kafkaBrokers = (): string[] | null => {
  const b = process.env.KAFKA_BROKERS
  return b ? b.split(',') : null
}

/** A topic prefix no other test run uses: every test gets fresh topics and groups. */
export const uniquePrefix = () => `test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}.`

/**
 * A describe block that needs the real Kafka broker. Without one it is skipped with a loud line,
 * except in CI (CI=true), where a missing broker is a failure: a Kafka suite never silently skips.
 */
export function describeKafka(name: string, fn: (brokers: string[]) => void): void {
  const brokers = kafkaBrokers()
  if (brokers) {
    describe(name, () => fn(brokers))
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('needs Kafka', () => {
        throw new Error('CI=true but KAFKA_BROKERS is not set: Kafka-backed suites must run in CI')
      })
    })
    return
  }
  console.warn(`\n!!! SKIPPED (no Kafka: KAFKA_BROKERS unset): ${name}\n`)
  describe.skip(name, () => fn([]))
}

/** A bus that behaves like `bus` except for the methods in `overrides` (fault injection). */
export function overrideBus(bus: Bus, overrides: Partial<Bus>): Bus {
  return {
    transport: bus.transport,
    connect: () => bus.connect(),
    ensureTopics: (t) => bus.ensureTopics(t),
    publish: (m) => bus.publish(m),
    subscribe: (o) => bus.subscribe(o),
    isReady: () => bus.isReady(),
    close: () => bus.close(),
    ...overrides,
  }
}

/** A bus that calls `after` once each delivery's handler has resolved (before the offset counts). */
export const afterHandled = (bus: Bus, after: (d: Delivery) => Promise<void> | void): Bus =>
  overrideBus(bus, {
    subscribe: (o) =>
      bus.subscribe({
        ...o,
        handle: async (d) => {
          await o.handle(d)
          await after(d)
        },
      }),
  })

/** A valid product.created payload: "some event keyed by a product" for tests and benchmarks. */
export const sampleProduct = (id: string, initialStock = 1): EventData<'product.created'> => ({
  id,
  name: `Product ${id}`,
  description: '',
  price: { amount: 1999, currency: 'EUR' },
  sku: null,
  imageUrl: null,
  active: true,
  initialStock,
})

/** Collects every raw message of `topics` for group `group` (used to read dead-letter topics). */
export async function collect(bus: Bus, group: string, topics: string[]) {
  const got: Delivery[] = []
  const sub = await bus.subscribe({
    group,
    topics,
    handle: async (d) => {
      got.push(d)
    },
  })
  return { got, stop: () => sub.close() }
}

export interface HttpCall {
  body?: unknown
  /** Sent as application/x-www-form-urlencoded instead of JSON. */
  form?: Record<string, string>
  /** JSON text sent as it is (for bodies JSON.stringify cannot make, or would refuse to). */
  rawJson?: string
  token?: string
  headers?: Record<string, string>
}

/**
 * Calls an app in process the way a client calls it over HTTP: a JSON (or form) body, a bearer
 * token, headers. Answers the status, headers, raw text and parsed JSON body.
 */
export function httpClient(
  app: { handle(request: Request): Promise<Response> },
  origin = 'http://mart.test',
) {
  return async (method: string, path: string, c: HttpCall = {}) => {
    const headers: Record<string, string> = { ...c.headers }
    let body: string | undefined
    if (c.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(c.form).toString()
    } else if (c.rawJson !== undefined) {
      headers['content-type'] = 'application/json'
      body = c.rawJson
    } else if (c.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(c.body)
    }
    if (c.token) headers.authorization = `Bearer ${c.token}`
    const res = await app.handle(new Request(`${origin}${path}`, { method, headers, body }))
    const text = await res.text()
    return {
      status: res.status,
      headers: res.headers,
      // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
      body: (text ? JSON.parse(text) : undefined) as Record<string, any>,
      text,
    }
  }
}

/**
 * Access tokens signed with the development key under `dataDir/keys`, as the user service signs
 * them: tests of other services need no user service to get a user's or an admin's token.
 */
export async function devTokenSigner(dataDir: string) {
  const signing = await loadSigningKey((await ensureDevKeys(dataDir)).privateKey)
  return (role: Role, claims: { username?: string; sub?: string; iss?: string; aud?: string } = {}) =>
    new SignJWT({ role, username: claims.username ?? `${role}-tester` })
      .setProtectedHeader({ alg: JWT_ALG, kid: signing.kid, typ: 'JWT' })
      .setSubject(claims.sub ?? crypto.randomUUID())
      .setIssuer(claims.iss ?? 'mart')
      .setAudience(claims.aud ?? 'mart')
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(signing.key)
}
