import { join } from 'node:path'
import type { Static } from '@sinclair/typebox'
import type { Server } from 'bun'
import { MemoryBus } from './bus/memory.ts'
import { ConfigError, checkServiceConfigs, loadConfig, serviceConfig } from './config.ts'
import { problemOf } from './errors.ts'
import { GATEWAY_PORT, routeFor, type ServiceName } from './gateway.ts'
import { figuresOf, keepStreamOpen, pathOf, problemResponse } from './http.ts'
import { PARSER_BODY_LIMIT, raiseParserLimits } from './http-limits.ts'
import { exitOnSignal, type RunningService, type ServiceDefinition, startService } from './lifecycle.ts'
import { createLogger, errorFields, type Logger } from './log.ts'

/**
 * The embedded process's own settings: the shared ones, and PORT, which is the listener's (8000;
 * 0 picks a free one). The services do not listen: they never see PORT.
 */
export const EmbeddedConfig = serviceConfig(GATEWAY_PORT, {})
export type EmbeddedConfig = Static<typeof EmbeddedConfig>

type Env = Record<string, string | undefined>
// biome-ignore lint/suspicious/noExplicitAny: each service has its own schema and config types
type AnyDefinition = ServiceDefinition<any, any>

/** What a service reads in the embedded mode. The listener sets X-Forwarded-For itself: the services may trust it. */
const serviceEnv = (env: Env): Env => ({ ...env, PORT: undefined, TRUST_PROXY: 'true' })

/**
 * Validates the listener's and every service's configuration before anything starts; throws one
 * ConfigError with every problem (a shared variable once, a service's own named with it).
 */
export function checkEmbeddedConfig(defs: AnyDefinition[], env: Env): EmbeddedConfig {
  checkServiceConfigs(
    'mart',
    { schema: EmbeddedConfig, env },
    defs.map((def) => ({ service: def.name, schema: def.config, env: serviceEnv(env) })),
  )
  return loadConfig('mart', EmbeddedConfig, env)
}

export interface EmbeddedOptions {
  env?: Env
  /** Port of the single HTTP listener, over PORT (tests pass 0: a free one). */
  port?: number
  log?: Logger
}

export interface Embedded {
  url: string
  config: EmbeddedConfig
  log: Logger
  services: RunningService[]
  /** Answers a request the way the listener does (for tests). */
  fetch(request: Request, server?: Server<undefined>): Promise<Response>
  stop(): Promise<void>
}

/**
 * The embedded default: every service in this process on one in-process bus, behind one listener
 * that routes `/api/...` exactly as the gateway does.
 */
export async function startEmbedded(defs: AnyDefinition[], opts: EmbeddedOptions = {}): Promise<Embedded> {
  const env = opts.env ?? process.env
  const config = checkEmbeddedConfig(defs, env)
  const log =
    opts.log ??
    createLogger({
      service: 'mart',
      level: config.LOG_LEVEL,
      pretty: config.LOG_PRETTY ?? (config.NODE_ENV === 'development' && process.stdout.isTTY),
    })
  // Journaled: an event relayed but not yet handled when the process dies is delivered after restart.
  const bus = new MemoryBus({
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    file: join(config.DATA_DIR, 'bus.db'),
    log,
  })
  const running: RunningService[] = []
  /** Undoes a start that failed half-way: what started stops, and the journal is free again. */
  const stopAll = async () => {
    for (const s of [...running].reverse()) await s.stop()
    await bus.close()
  }
  try {
    for (const def of defs) {
      // Each service logs under its own name, as it does when it runs alone.
      running.push(await startService(def, { env: serviceEnv(env), bus, log: opts.log }))
    }
  } catch (err) {
    await stopAll()
    throw err
  }
  const byName = new Map(running.map((s) => [s.name as ServiceName, s]))
  const names = [...byName.keys()]

  async function fetch(request: Request, server?: Server<undefined>): Promise<Response> {
    const pathname = pathOf(request.url)
    if (pathname === '/health') return Response.json({ status: 'ok' })
    if (pathname === '/ready') {
      const notReady = running.filter((s) => !s.ready()).map((s) => s.name)
      const services = Object.fromEntries(running.map((s) => [s.name, figuresOf(s.ready)]))
      return Response.json(
        { status: notReady.length ? 'not ready' : 'ready', notReady, services },
        { status: notReady.length ? 503 : 200 },
      )
    }
    if (pathname === '/' || pathname === '/api') {
      return Response.json({ services: names.map((n) => ({ name: n, docs: `/api/${n}/docs` })) })
    }
    const route = routeFor(pathname, names)
    const service = route && byName.get(route.service)
    if (!route || !service) return problemResponse(problemOf('not-found', undefined, { instance: pathname }))
    // Like the gateway: the client's address replaces whatever X-Forwarded-For it sent.
    const forwardedFor = server?.requestIP(request)?.address ?? '127.0.0.1'
    if (route.path === pathname) {
      // Most requests keep their path: the request goes on as it is (its headers are ours to
      // change), rather than copied with its headers into a new one.
      request.headers.set('x-forwarded-for', forwardedFor)
      return keepStreamOpen(server, request, await service.app.handle(request))
    }
    const headers = new Headers(request.headers)
    headers.set('x-forwarded-for', forwardedFor)
    const url = new URL(request.url)
    url.pathname = route.path
    // The client's signal goes along: a stream learns that its client has gone.
    const response = await service.app.handle(
      new Request(url.toString(), {
        method: request.method,
        headers,
        body: request.body,
        signal: request.signal,
      }),
    )
    return keepStreamOpen(server, request, response)
  }

  raiseParserLimits()
  let server: Server<undefined>
  try {
    server = Bun.serve({
      hostname: config.HOST,
      port: opts.port ?? config.PORT,
      // Each service enforces HTTP_BODY_LIMIT itself, with a problem and an access line.
      maxRequestBodySize: PARSER_BODY_LIMIT,
      fetch,
      error(err) {
        log.error(errorFields(err), 'request failed')
        return problemResponse(problemOf('internal'))
      },
    })
  } catch (err) {
    await stopAll() // the port is taken, say
    throw err
  }

  return {
    url: `http://${config.HOST}:${server.port}`,
    config,
    log,
    services: running,
    fetch,
    async stop() {
      for (const s of running) s.endStreams() // or the listener would wait for them
      await server.stop() // lets in-flight requests finish
      await stopAll()
    },
  }
}

/**
 * The embedded marketplace as a process (`bun run dev`): one message and exit 1 for a bad
 * configuration or a failed start; on SIGTERM or SIGINT it stops as a standalone service does.
 */
export async function runEmbedded(defs: AnyDefinition[]): Promise<Embedded> {
  let mart: Embedded
  try {
    mart = await startEmbedded(defs)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(err instanceof ConfigError ? `${message}\n` : `mart failed to start: ${message}\n`)
    process.exit(1)
  }
  mart.log.info(
    { url: mart.url, bus: 'memory', services: mart.services.map((s) => s.name) },
    'mart listening',
  )
  exitOnSignal(mart.log, mart.config.SHUTDOWN_TIMEOUT_MS, () => mart.stop())
  return mart
}
