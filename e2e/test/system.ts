// The whole of Mart as it runs in the distributed mode, for the end-to-end suites: the six services
// as processes of their own (their production entry points, configured only by environment), on a
// real Kafka under a topic prefix of their own, behind the real Caddy on the root Caddyfile, mailing
// a real SMTP server and paying through stripe-mock. A test talks to it over HTTP through the gateway,
// as a client does; it may kill -9 a service and start it again on the same port and database, and
// it watches every topic (dead letters included) to check what the services said to each other.
import { mkdirSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  catalog,
  type Delivery,
  decodeEvent,
  dlqTopic,
  type Event,
  type EventType,
  KafkaBus,
  type ServiceName,
  serviceNames,
  topics,
} from '@mart/shared'
import { tempDir, testLogger, uniquePrefix, waitFor } from '@mart/shared/testing'
import { startSmtp } from '../../notification/test/smtp.ts'
import { type RunningCaddy, startCaddy } from '../../scripts/caddy.ts'
import { entryOf } from '../../scripts/services.ts'

export const ADMIN = { username: 'root', email: 'root@mart.test', password: 'root-password-123' }
export const WEBHOOK_SECRET = 'whsec_mart_system_test'

/** A port nothing listens on now (handed out by the system, so two calls rarely collide). */
function freePort(): number {
  const s = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

export interface SystemOptions {
  brokers: string[]
  stripeMockUrl: string
  /** Over the environment every service gets (a service reads only its own settings). */
  env?: Record<string, string>
}

export interface Answer {
  status: number
  headers: Headers
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  body: any
  text: string
}

export interface CallOptions {
  body?: unknown
  token?: string
  headers?: Record<string, string>
  /** Sent as these exact bytes (a signed webhook). */
  raw?: string
}

type Child = Bun.Subprocess<'ignore', number, number>

export async function startSystem(opts: SystemOptions) {
  const tmp = tempDir('mart-system-')
  const logDir = join(tmp.dir, 'logs')
  mkdirSync(logDir)
  const prefix = uniquePrefix()
  const smtp = await startSmtp()
  const ports = Object.fromEntries(serviceNames.map((n) => [n, freePort()])) as Record<ServiceName, number>
  const gatewayPort = freePort()
  const gateway = `http://127.0.0.1:${gatewayPort}`

  // The names a team sets in production (the seed's: SMTP_*, STRIPE_SECRET_KEY, ADMIN_*), nothing
  // a test-only hook reads. Development: the user service makes the signing keys in DATA_DIR, where
  // the other five read the public key.
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.SYSTEM_LOG_LEVEL ?? 'info',
    HOST: '127.0.0.1',
    DATA_DIR: tmp.dir,
    TRUST_PROXY: 'true',
    PUBLIC_URL: gateway,
    KAFKA_BOOTSTRAP_SERVERS: opts.brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    SMTP_SERVER: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_TLS: 'none',
    SMTP_FROM: 'Mart <shop@mart.test>',
    STRIPE_SECRET_KEY: 'sk_test_martsystem',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_URL: opts.stripeMockUrl,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    // Cheap hashing (the default costs ~160 ms a hash on two cores), and every client is 127.0.0.1.
    PASSWORD_MEMORY_KIB: '1024',
    PASSWORD_TIME_COST: '1',
    REGISTER_MAX_PER_ADDRESS: '10000',
    LOGIN_MAX_PER_ADDRESS: '10000',
    ...opts.env,
  }

  // Every message on every topic and dead-letter topic, once each (a redelivered copy sits at the
  // same offset).
  const observer = new KafkaBus({
    brokers: opts.brokers,
    clientId: 'system-observer',
    topicPrefix: prefix,
    log: testLogger('observer'),
  })
  const every = topics.flatMap((t) => [t, dlqTopic(t)])
  await observer.ensureTopics(every)
  const seen = new Set<string>()
  const messages: Delivery[] = []
  const watching = await observer.subscribe({
    group: `system-observer-${crypto.randomUUID()}`,
    topics: every,
    handle: async (d) => {
      const at = `${d.topic}/${d.partition}/${d.offset}`
      if (seen.has(at)) return
      seen.add(at)
      messages.push(d)
    },
  })

  const children = new Map<ServiceName, Child>()
  // A process ended by a signal (kill -9) has a signalCode and no exitCode.
  const running = (child: Child | undefined) =>
    child !== undefined && child.exitCode === null && child.signalCode === null
  const urlOf = (name: ServiceName) => `http://127.0.0.1:${ports[name]}`
  const logOf = (name: ServiceName) => join(logDir, `${name}.log`)

  const isReady = async (name: ServiceName) => {
    try {
      return (await fetch(`${urlOf(name)}/ready`)).status === 200
    } catch {
      return false
    }
  }

  /** Starts `name` (its port and database as before) and waits until it is ready. */
  const start = async (name: ServiceName, extra: Record<string, string> = {}) => {
    if (running(children.get(name))) throw new Error(`${name} is running`)
    const log = openSync(logOf(name), 'a')
    const child = Bun.spawn(['bun', entryOf(name)], {
      env: { ...env, ...extra, PORT: String(ports[name]) },
      stdin: 'ignore',
      stdout: log,
      stderr: log,
    })
    children.set(name, child)
    await waitFor(
      async () => {
        if (!running(child)) {
          const tail = readFileSync(logOf(name), 'utf8').trim().split('\n').slice(-5).join('\n')
          throw new Error(
            `${name} exited with ${child.exitCode ?? child.signalCode} while starting:\n${tail}`,
          )
        }
        return isReady(name)
      },
      `${name} to be ready`,
      60_000,
    )
  }

  /** kill -9: no shutdown hook runs, nothing is flushed. Waits until the process is gone. */
  const kill9 = async (name: ServiceName) => {
    const child = children.get(name)
    if (!child) return
    child.kill('SIGKILL')
    await child.exited
  }

  /** SIGTERM, as an operator stops it: in-flight work finishes. */
  const stop = async (name: ServiceName) => {
    const child = children.get(name)
    if (!child || !running(child)) return
    child.kill('SIGTERM')
    await child.exited
  }

  let caddy: RunningCaddy | undefined
  const shutdown = async () => {
    await caddy?.stop()
    await Promise.all(serviceNames.map(stop))
    await watching.close()
    await observer.close()
    await smtp.stop()
    tmp.cleanup()
  }

  try {
    // The user service first: it makes the signing keys the others read.
    await start('user')
    await Promise.all(serviceNames.filter((n) => n !== 'user').map((n) => start(n)))
    caddy = await startCaddy({
      env: { ...process.env },
      port: gatewayPort,
      upstreams: Object.fromEntries(serviceNames.map((n) => [n, `127.0.0.1:${ports[n]}`])),
      logFile: join(logDir, 'caddy.log'),
    })
  } catch (err) {
    await shutdown()
    throw err
  }

  /** A request through the gateway, as a client sends it. */
  const call = async (method: string, path: string, c: CallOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...c.headers }
    let body: string | undefined
    if (c.raw !== undefined || c.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      body = c.raw ?? JSON.stringify(c.body)
    }
    if (c.token) headers.authorization = `Bearer ${c.token}`
    const res = await fetch(`${gateway}${path}`, { method, headers, body })
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = undefined
    }
    return { status: res.status, headers: res.headers, body: parsed, text }
  }

  /** Each event that reached `type`'s topic, once, in arrival order; only those about `subject` when given. */
  function published<T extends EventType>(type: T, subject?: string): Event<T>[] {
    return messages
      .filter((d) => d.topic === catalog[type].topic && d.headers['event-type'] === type)
      .map((d) => decodeEvent(d.value) as Event<T>)
      .filter((e) => subject === undefined || e.subject === subject)
  }

  /** What sits in the dead-letter topics, as raw deliveries. */
  const deadLetters = () => messages.filter((d) => topics.some((t) => d.topic === dlqTopic(t)))

  return {
    /** The gateway's URL (Caddy on the root Caddyfile). */
    url: gateway,
    dir: tmp.dir,
    prefix,
    /** The SMTP server the notification service sends to: `inbox` is every message it accepted. */
    smtp,
    call,
    /** A service's own address (its /ready and /metrics, which the gateway does not route). */
    urlOf,
    /** A service's log (every start of it appends), as text. */
    log: (name: ServiceName) => readFileSync(logOf(name), 'utf8'),
    /** Every message the observer has read so far. */
    messages: () => messages,
    published,
    deadLetters,
    start,
    stop,
    kill9,
    /** SIGTERM and start again with `extra` settings on top. */
    async restart(name: ServiceName, extra?: Record<string, string>) {
      await stop(name)
      await start(name, extra)
    },
    isReady,
    shutdown,
  }
}

export type System = Awaited<ReturnType<typeof startSystem>>
