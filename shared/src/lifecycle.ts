import { join } from 'node:path'
import type { Static, TObject } from '@sinclair/typebox'
import type { AnyElysia } from 'elysia'
import { type TokenVerifier, verifierFromConfig } from './auth.ts'
import { combineHandlers, consume, type Handlers, topicsOf } from './bus/consumer.ts'
import { createBus } from './bus/create.ts'
import { OutboxRelay } from './bus/relay.ts'
import type { Bus, Subscription } from './bus/types.ts'
import { type BaseConfig, loadConfig } from './config.ts'
import { checkConsumes } from './consumes.ts'
import { openStore, type Schema, type Store } from './db/open.ts'
import { dlqTopic, type EventType, type Topic } from './events/index.ts'
import type { Readiness } from './http.ts'
import { purgeIdempotencyKeys } from './idempotency.ts'
import type { JobKinds } from './jobs/kinds.ts'
import { JobRunner } from './jobs/runner.ts'
import { createLogger, errorFields, flushLogs, type Logger } from './log.ts'
import { consumerLagMetric, platformMetrics, type Registry, registryOf } from './metrics.ts'
import { housekeeping } from './periodic.ts'
import { backoffDelay, sleep } from './retry.ts'
import { Revocations } from './revocations.ts'

/** What a service's `build` gets: its configuration, logger, database and bus, ready to use. */
export interface ServiceRuntime<S extends Schema, C extends BaseConfig> {
  name: string
  config: C
  log: Logger
  store: Store<S>
  bus: Bus
  /** Verifies access tokens (use with authGuards); refuses the ones `revocations` names. */
  verifier: TokenVerifier
  /** Whose older tokens this service refuses; the platform feeds it from user.sessions_revoked. */
  revocations: Revocations
  /** True while the service can do all its work: database open and bus set up and connected. */
  ready: ServiceReadiness
}

/**
 * What `/ready` shows beside its answer: whether the bus reaches its broker (an operator reading a
 * 503 sees why), and the backlog: jobs due (or whose runner died) and dead, events not yet published.
 */
export interface ServiceFigures {
  bus: 'connected' | 'away'
  jobs: { due: number; dead: number }
  outbox: { pending: number }
}

/** A service's readiness, with its figures (pass it to createHttpApp as it is). */
export type ServiceReadiness = Readiness & { figures(): ServiceFigures }

/** What a service builds: its routes, its event handlers, its job kinds and anything of its own to stop. */
export interface ServiceParts<S extends Schema> {
  app: AnyElysia
  handlers?: Handlers<S>
  /** The kinds of durable job it schedules with `t.schedule(kind, ...)`, by name. */
  jobs?: JobKinds<S>
  /**
   * Ends the responses that stay open (event streams) and refuses new ones. Called as the service
   * starts to stop, before the listener does: a listener stopping waits for every open response.
   */
  endStreams?: () => void
  stop?: () => Promise<void> | void
  /**
   * Adds the service's own figures to its GET /metrics registry (e.g. gauges read from its database
   * on scrape). Called once, after build; the registry is the service's alone.
   */
  metrics?: (registry: Registry) => void
}

/** Everything the platform needs to know to run a service, in one process or beside the others. */
export interface ServiceDefinition<S extends Schema = Schema, CS extends TObject = TObject> {
  name: string
  /** Its configuration schema (BaseConfig plus its own settings; see serviceConfig). */
  config: CS
  schema?: S
  migrationsFolder?: string
  /** Topics it produces to. */
  publishes: Topic[]
  /**
   * Event types its handlers consume: exactly their keys, or it does not start. The platform's own
   * consumption (user.sessions_revoked, for the auth layer) is not listed here (see platformConsumers).
   */
  consumes: EventType[]
  build(rt: ServiceRuntime<S, Static<CS> & BaseConfig>): ServiceParts<S> | Promise<ServiceParts<S>>
}

export interface RunningService<S extends Schema = Schema> {
  name: string
  app: AnyElysia
  config: BaseConfig & { PORT: number }
  log: Logger
  store: Store<S>
  bus: Bus
  relay: OutboxRelay
  jobs: JobRunner
  ready: ServiceReadiness
  /** The registry its GET /metrics answers (undefined when its app is not createHttpApp's). */
  metrics: Registry | undefined
  /**
   * Ends its open streams and refuses new ones (ServiceParts.endStreams): call it before stopping
   * the listener, which would otherwise wait for them. `stop` calls it too.
   */
  endStreams(): void
  /** Drains handlers and jobs, flushes the outbox and closes the bus (if it owns it) and the database. */
  stop(): Promise<void>
}

export interface StartOptions {
  env?: Record<string, string | undefined>
  /** A bus shared with other services (embedded mode); the service then does not close it. */
  bus?: Bus
  log?: Logger
}

/**
 * Opens the service's database, starts its outbox relay and subscribes its handlers. The bus is set
 * up in the background, retried until the broker answers: HTTP serves meanwhile, /ready says not yet.
 */
export async function startService<S extends Schema, CS extends TObject>(
  def: ServiceDefinition<S, CS>,
  opts: StartOptions = {},
): Promise<RunningService<S>> {
  const config = loadConfig(def.name, def.config, opts.env ?? process.env) as Static<CS> &
    BaseConfig & { PORT: number }
  const log =
    opts.log ??
    createLogger({
      service: def.name,
      level: config.LOG_LEVEL,
      pretty: config.LOG_PRETTY ?? (config.NODE_ENV === 'development' && process.stdout.isTTY),
    })
  const store = openStore({
    file: join(config.DATA_DIR, `${def.name}.db`),
    source: def.name,
    schema: def.schema,
    migrationsFolder: def.migrationsFolder,
    backgroundCheckpointMs: config.SQLITE_CHECKPOINT_MS || undefined,
  })
  const bus = opts.bus ?? createBus(config, def.name, log)
  const relay = new OutboxRelay(store, bus, log.child({ component: 'outbox' }), {
    outboxRetentionMs: config.OUTBOX_RETENTION_HOURS * 3_600_000,
    inboxRetentionMs: config.INBOX_RETENTION_HOURS * 3_600_000,
  })
  let busSetUp = false
  let stopping = false
  const stopped = new AbortController()
  let subscription: Subscription | null = null
  const busUp = () => busSetUp && bus.isReady()
  const ready: ServiceReadiness = Object.assign(() => !stopping && busUp(), {
    // Asked by /ready, once the service is built.
    figures: (): ServiceFigures => ({
      bus: busUp() ? 'connected' : 'away',
      jobs: runner.figures(),
      outbox: { pending: relay.pending() },
    }),
    why: () => (stopping ? 'stopping' : busUp() ? undefined : 'the bus is away'),
  })
  // Every service refuses the tokens the user service revokes, within one bus round trip.
  const revocations = new Revocations(store)
  const stopPruning = housekeeping(log, 'prune revocations', 600_000, () => revocations.prune())
  // Idempotency keys past their window answer nothing any more (idempotency.ts).
  const stopPurging = housekeeping(log, 'purge idempotency keys', 3_600_000, () =>
    purgeIdempotencyKeys(store),
  )
  const verifier = await verifierFromConfig(config, revocations)
  const parts = await def.build({ name: def.name, config, log, store, bus, verifier, revocations, ready })
  try {
    checkConsumes(def.name, def.consumes, parts.handlers ?? {})
  } catch (err) {
    stopPruning()
    stopPurging()
    await parts.stop?.()
    if (!opts.bus) await bus.close()
    store.close()
    throw err
  }
  const handlers = combineHandlers(revocations.handlers as Handlers<S>, parts.handlers ?? {})
  const consumed = topicsOf(handlers as Handlers<Schema>)
  const runner = new JobRunner(store, (parts.jobs ?? {}) as JobKinds, log.child({ component: 'jobs' }), {
    concurrency: config.JOBS_CONCURRENCY,
    leaseMs: config.JOBS_LEASE_SECONDS * 1000,
    retentionMs: config.JOBS_RETENTION_HOURS * 3_600_000,
  })

  const registry = registryOf(parts.app)
  const platform = registry
    ? platformMetrics(registry, {
        jobs: () => runner.figures(),
        outboxPending: () => relay.pending(),
        outboxOldestAt: () => relay.oldestPendingAt(),
      })
    : undefined
  if (registry) parts.metrics?.(registry)
  const { lag } = bus
  if (registry && lag && consumed.length) {
    // Nothing to ask before the group has subscribed: the broker would only say "not found".
    consumerLagMetric(registry, async () => (busSetUp ? lag.call(bus, def.name, consumed) : []))
  }

  async function setUpBus() {
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await bus.connect()
        await bus.ensureTopics([...new Set([...def.publishes, ...consumed].flatMap((t) => [t, dlqTopic(t)]))])
        relay.start()
        if (!stopping)
          subscription = await consume({
            bus,
            store,
            group: def.name,
            handlers,
            log,
            onDeadLetter: platform?.deadLettered,
          })
        // Jobs may publish: they start once the relay does.
        if (!stopping) runner.start()
        busSetUp = true
        return
      } catch (err) {
        const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 })
        log.warn({ attempt, retryInMs: delay, ...errorFields(err) }, 'bus not available yet')
        await sleep(delay, stopped.signal)
      }
    }
  }
  const settingUp = setUpBus()
  // Embedded mode and tests want a usable service on return; Kafka may take a moment.
  const waited = new AbortController()
  await Promise.race([settingUp, sleep(bus.transport === 'memory' ? 60_000 : 15_000, waited.signal)])
  waited.abort()

  return {
    name: def.name,
    app: parts.app,
    config,
    log,
    store,
    bus,
    relay,
    jobs: runner,
    ready,
    metrics: registry,
    endStreams: () => parts.endStreams?.(),
    async stop() {
      parts.endStreams?.()
      stopping = true
      stopped.abort()
      stopPruning()
      stopPurging()
      await settingUp
      // Half the shutdown time at most for running jobs: the rest is for flushing what they published.
      await Promise.all([subscription?.close(), runner.stop(config.SHUTDOWN_TIMEOUT_MS / 2)])
      await parts.stop?.()
      await relay.stop()
      if (!opts.bus) await bus.close()
      store.close()
    },
  }
}

/**
 * Runs one service as its own process: listens on HOST:PORT and, on SIGTERM or SIGINT, stops
 * accepting, lets in-flight requests finish, drains handlers, flushes the outbox and exits.
 */
export async function runStandalone<S extends Schema, CS extends TObject>(def: ServiceDefinition<S, CS>) {
  let service: RunningService<S>
  try {
    service = await startService(def)
  } catch (err) {
    process.stderr.write(`${def.name} failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
  const { app, config, log } = service
  app.listen({ hostname: config.HOST, port: config.PORT })
  log.info(
    { url: `http://${config.HOST}:${app.server?.port}`, bus: service.bus.transport },
    `${def.name} listening`,
  )
  exitOnSignal(log, config.SHUTDOWN_TIMEOUT_MS, async () => {
    service.endStreams() // or the listener would wait for them
    await app.stop() // stop accepting, wait for in-flight requests
    await service.stop()
  })
  return service
}

/**
 * How a Mart process ends, in every run mode: on SIGTERM or SIGINT it logs "shutting down", runs
 * `stop` (which lets in-flight work finish), logs "stopped" and exits 0; if `stop` fails or takes
 * longer than `timeoutMs`, it says so and exits 1.
 */
export function exitOnSignal(log: Logger, timeoutMs: number, stop: () => Promise<void>): void {
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    // Log lines are written asynchronously: each exit writes what is queued first.
    const exit = (code: number) => void flushLogs().finally(() => process.exit(code))
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting')
      exit(1)
    }, timeoutMs)
    try {
      await stop()
      clearTimeout(timer)
      log.info('stopped')
      exit(0)
    } catch (err) {
      log.error(errorFields(err), 'shutdown failed')
      exit(1)
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}
