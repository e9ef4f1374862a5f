import { describe, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { TObject } from '@sinclair/typebox'
import { SignJWT } from 'jose'
import pino from 'pino'
import type { Role } from './auth.ts'
import { KafkaBus } from './bus/kafka.ts'
import { MemoryBus } from './bus/memory.ts'
import type { Bus, Delivery } from './bus/types.ts'
import { openStore, type Schema } from './db/open.ts'
import { catalog, dlqTopic, type EventData, type EventType, topics } from './events/catalog.ts'
import { createEvent, decodeEvent, type Event, encodeEvent, eventHeaders } from './events/codec.ts'
import { dlqHeaders } from './events/dead-letter.ts'
import { ensureDevKeys, JWT_ALG, loadSigningKey } from './keys.ts'
import { type ServiceDefinition, startService } from './lifecycle.ts'
import { createLogger, type Logger } from './log.ts'
import { sleep } from './retry.ts'

export * from './samples.ts'
export * from './sse-reader.ts'

/** A fresh directory under the system temp dir; removed by the returned cleanup. */
export function tempDir(prefix = 'mart-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A service's own database on a fresh temporary directory, migrated as the service migrates it: for
 * tests of its read models and statements without the rest of the service. `close` removes it.
 */
export function tempStore<S extends Schema>(def: { name: string; schema?: S; migrationsFolder?: string }) {
  const { schema, migrationsFolder } = def
  if (!schema || !migrationsFolder) throw new Error(`the ${def.name} service has no database`)
  const tmp = tempDir(`mart-${def.name}-`)
  const store = openStore({
    file: join(tmp.dir, `${def.name}.db`),
    source: def.name,
    schema,
    migrationsFolder,
  })
  return {
    store,
    close() {
      store.close()
      tmp.cleanup()
    },
  }
}

/** A logger that writes nothing (LOG_LEVEL=debug in the environment turns test logs on). */
export const testLogger = (service = 'test') =>
  pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent', base: { service } })

/**
 * A logger whose JSON lines the test can read back (the service's own logger, redaction
 * included). TEST_LOG_LEVEL=debug prints them as well.
 */
export function capturedLogger(service = 'test', level: 'info' | 'debug' = 'info') {
  const raw: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(String(chunk))
      if (process.env.TEST_LOG_LEVEL) process.stdout.write(chunk)
      done()
    },
  })
  return {
    log: createLogger({ service, level, destination: sink }),
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

/** The caddy binary on PATH (the gateway of the distributed mode), or null. */
export const caddyPath = (): string | null => Bun.which('caddy')

/**
 * A describe block that needs a real Caddy on PATH (`apt-get install caddy`). Without one it is
 * skipped with a loud line, except in CI (CI=true), where a missing Caddy is a failure: a gateway
 * suite never silently skips.
 */
export function describeCaddy(name: string, fn: (caddy: string) => void): void {
  const caddy = caddyPath()
  if (caddy) {
    describe(name, () => fn(caddy))
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('needs Caddy', () => {
        throw new Error('CI=true but caddy is not on PATH: gateway suites must run in CI')
      })
    })
    return
  }
  console.warn(`\n!!! SKIPPED (no caddy on PATH: apt-get install caddy): ${name}\n`)
  describe.skip(name, () => fn('caddy'))
}

/** The URL of the test stripe-mock (set by `bun run test` when it started one). */
export const stripeMockUrl = (): string | null => process.env.STRIPE_MOCK_URL || null

/**
 * A describe block that needs a real stripe-mock (the Stripe SDK's calls checked against Stripe's
 * OpenAPI spec). Without one it is skipped with a loud line, except in CI (CI=true), where a missing
 * stripe-mock is a failure: a stripe-mock suite never silently skips.
 */
export function describeStripeMock(name: string, fn: (url: string) => void): void {
  const url = stripeMockUrl()
  if (url) {
    describe(name, () => fn(url))
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('needs stripe-mock', () => {
        throw new Error('CI=true but STRIPE_MOCK_URL is not set: stripe-mock suites must run in CI')
      })
    })
    return
  }
  console.warn(`\n!!! SKIPPED (no stripe-mock: STRIPE_MOCK_URL unset): ${name}\n`)
  // The block still runs to collect its tests: a well-formed URL that is never called keeps
  // `new URL(url)` and clients built from it from throwing there.
  describe.skip(name, () => fn('http://stripe-mock.invalid:12111'))
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
    ...(bus.lag ? { lag: bus.lag.bind(bus) } : {}),
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
        ...(o.handleBatch && {
          handleBatch: async (ds: Delivery[]) => {
            await o.handleBatch?.(ds)
            for (const d of ds) await after(d)
          },
        }),
      }),
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

/** What a test token says beside its role; the rest as the user service would sign it. */
export interface TokenClaims {
  username?: string
  sub?: string
  iss?: string
  aud?: string
}

/**
 * Access tokens signed with the development key under `dataDir/keys`, as the user service signs
 * them: tests of other services need no user service to get a user's or an admin's token.
 */
export async function devTokenSigner(dataDir: string) {
  const signing = await loadSigningKey((await ensureDevKeys(dataDir)).privateKey)
  return (role: Role, claims: TokenClaims = {}) =>
    new SignJWT({ role, username: claims.username ?? `${role}-tester` })
      .setProtectedHeader({ alg: JWT_ALG, kid: signing.kid, typ: 'JWT' })
      .setSubject(claims.sub ?? crypto.randomUUID())
      .setIssuer(claims.iss ?? 'mart')
      .setAudience(claims.aud ?? 'mart')
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(signing.key)
}

/** A bus on the test Kafka whose topics and groups no other test run uses. */
export const kafkaTestBus = (brokers: string[], clientId: string) =>
  new KafkaBus({ brokers, clientId, topicPrefix: uniquePrefix(), log: testLogger('kafka') })

export interface HarnessOptions {
  /** Over the test environment (NODE_ENV=test, DATA_DIR=the harness's directory). */
  env?: Record<string, string>
  /**
   * A bus of the test's own (Kafka, or one other services share), left open at stop. Without it the
   * harness makes a MemoryBus with every topic and its dead-letter topic.
   */
  bus?: Bus
  /**
   * Every message handed to every group twice in a row, so each test also proves the service's
   * handlers idempotent: the harness's own bus does it unless this is false; a bus of the test's
   * own is taken not to unless this is true. `settled` waits for every copy.
   */
  duplicateDelivery?: boolean
  /** A data directory of the test's own, kept at stop, instead of a fresh temporary one. */
  dir?: string
  /** Instead of the captured logger (benchmarks: a silent one). */
  log?: Logger
}

/** One event for `apply`: its type, its data and its subject. */
export type SendStep = { [T in EventType]: [type: T, data: EventData<T>, subject: string] }[EventType]

/** A raw message's event id, when it has one (a test may send what is not even JSON). */
function eventIdOf(value: string): string | undefined {
  try {
    const id = (JSON.parse(value) as { id?: unknown } | null)?.id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

/**
 * Starts a service (its `ServiceDefinition`) the way it runs, on a real SQLite file and a real bus,
 * and gives a test what it needs around it: the events it published and its dead letters, events
 * sent into it as their producer's relay would, a wait until its group has handled them, signed
 * tokens, an HTTP client and its log. Each service's `test/support.ts` adds only its own helpers.
 */
export async function startHarness<S extends Schema, CS extends TObject>(
  definition: ServiceDefinition<S, CS>,
  opts: HarnessOptions = {},
) {
  const name = definition.name
  const tmp = opts.dir ? { dir: opts.dir, cleanup() {} } : tempDir(`mart-${name}-`)
  const duplicate = opts.duplicateDelivery ?? !opts.bus
  const bus = opts.bus ?? new MemoryBus({ duplicateDelivery: duplicate })
  await bus.ensureTopics(topics.flatMap((t) => [t, dlqTopic(t)]))

  // What reached the service's topics and its dead letters, once each: with duplicate delivery the
  // observer too gets every message twice, but a topic holds it once.
  const observed = new Set<string>()
  const published: Delivery[] = []
  const deadLetters: Delivery[] = []
  const publishes = new Set<string>(definition.publishes)
  const observer = await bus.subscribe({
    group: `harness-observer-${crypto.randomUUID()}`,
    topics: [...definition.publishes, ...topics.map(dlqTopic)],
    handle: async (d) => {
      const at = `${d.topic}/${d.partition}/${d.offset}`
      if (observed.has(at)) return
      observed.add(at)
      if (publishes.has(d.topic)) published.push(d)
      else if (d.headers[dlqHeaders.group] === name) deadLetters.push(d)
    },
  })

  // How many deliveries of each event the service's group has finished (a handler that throws is
  // delivered again, so finished means handled, applied or dead-lettered).
  const handled = new Map<string, number>()
  const count = (d: Delivery) => {
    const id = eventIdOf(d.value)
    if (id) handled.set(id, (handled.get(id) ?? 0) + 1)
  }
  const tracked = overrideBus(bus, {
    subscribe: (o) =>
      bus.subscribe(
        o.group !== name
          ? o
          : {
              ...o,
              handle: async (d) => {
                await o.handle(d)
                count(d)
              },
              // Both transports hand waiting messages over in batches.
              ...(o.handleBatch && {
                handleBatch: async (ds: Delivery[]) => {
                  await o.handleBatch?.(ds)
                  for (const d of ds) count(d)
                },
              }),
            },
      ),
  })

  const logs = capturedLogger(name)
  const svc = await startService(definition, {
    env: { NODE_ENV: 'test', DATA_DIR: tmp.dir, ...opts.env },
    bus: tracked,
    log: opts.log ?? logs.log,
  }).catch(async (err) => {
    await observer.close()
    if (!opts.bus) await bus.close()
    tmp.cleanup()
    throw err
  })

  /** Publishes an event the way its producer's relay would (keyed by its subject); answers it. */
  async function send<T extends EventType>(type: T, data: EventData<T>, subject: string): Promise<Event<T>> {
    const source = catalog[type].topic.replace(/\.events$/, '')
    const event = createEvent({ type, data, subject, source })
    await bus.publish([
      { topic: catalog[type].topic, key: subject, value: encodeEvent(event), headers: eventHeaders(type) },
    ])
    return event
  }

  /** Publishes a message as it is: one no producer would send, or a dead letter. */
  const sendRaw = (topic: string, key: string, value: string, headers: Record<string, string> = {}) =>
    bus.publish([{ topic, key, value, headers }])

  /** Waits until the service has handled every copy of each event. */
  const settled = (...events: { id: string; type: string }[]) =>
    waitFor(
      () => events.every((e) => (handled.get(e.id) ?? 0) >= (duplicate ? 2 : 1)),
      `${name} to handle ${events.map((e) => e.type).join(', ')}`,
      30_000,
    )

  /** Sends events one after the other, each handled before the next goes; answers them. */
  async function apply(...steps: SendStep[]): Promise<Event[]> {
    const sent: Event[] = []
    for (const [type, data, subject] of steps) {
      const e = await send(type, data as EventData<typeof type>, subject)
      await settled(e)
      sent.push(e)
    }
    return sent
  }

  // Made on first use: a test that gives the service keys of its own finds no dev keys written.
  let signer: ReturnType<typeof devTokenSigner> | undefined
  /** An access token as the user service signs them, with the key this service verifies with. */
  async function token(role: Role, claims: TokenClaims = {}) {
    signer ??= devTokenSigner(tmp.dir)
    return (await signer)(role, claims)
  }

  return {
    svc,
    bus,
    dir: tmp.dir,
    call: httpClient(svc.app, `http://${name}.mart.test`),
    token,
    send,
    sendRaw,
    settled,
    apply,
    /** The events that reached the topics the service publishes, decoded, in arrival order. */
    events: (): Event[] => published.map((d) => decodeEvent(d.value)),
    /** Those messages as they arrived (key, value, headers). */
    deliveries: (): Delivery[] => [...published],
    /** What the service's group dead-lettered. */
    deadLetters: (): Delivery[] => [...deadLetters],
    /** What the service committed to publish, in commit order: its outbox, read from its database. */
    outbox: (): Event[] =>
      svc.store.sqlite
        .prepare<[], { value: string }>('SELECT value FROM mart_outbox ORDER BY seq')
        .all()
        .map((r) => decodeEvent(r.value)),
    /** Every log line the service wrote, parsed (none with a logger of the test's own). */
    logLines: logs.lines,
    /** Every log line the service wrote, as written (to look for what must never be there). */
    logText: logs.text,
    /** The audit lines (admin actions and security events), in order. */
    audits: () => logs.lines().filter((l) => typeof l.audit === 'string'),
    async stop() {
      await observer.close()
      await svc.stop()
      if (!opts.bus) await bus.close()
      tmp.cleanup()
    },
  }
}

export type ServiceHarness = Awaited<ReturnType<typeof startHarness>>
