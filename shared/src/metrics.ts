import type { AnyElysia } from 'elysia'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { PartitionLag } from './bus/types.ts'

export type { Registry } from 'prom-client'

/**
 * One service's Prometheus metrics. Each service has its own registry, never prom-client's global
 * one: in the embedded mode several services share a process, and each answers for itself only.
 */
export interface HttpMetrics {
  registry: Registry
  /** Records one answered request; `route` is the route's pattern, never the raw path. */
  observe(method: string, route: string, status: number, seconds: number): void
}

// Latency buckets in seconds: from a cached read to a request that waited on a busy database.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  const requests = new Counter({
    name: 'mart_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'mart_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  })
  return {
    registry,
    observe(method, route, status, seconds) {
      const labels = { method, route, status: String(status) }
      requests.inc(labels)
      latency.observe(labels, seconds)
    },
  }
}

// The registry createHttpApp made for an app, for startService to add the platform's figures to.
const registries = new WeakMap<object, Registry>()

export const registerApp = (app: object, registry: Registry) => void registries.set(app, registry)

/** The registry behind an app's GET /metrics (undefined for an app createHttpApp did not make). */
export const registryOf = (app: AnyElysia): Registry | undefined => registries.get(app)

/** A gauge whose value is read when scraped: `read` answers it, or nothing to leave it as it was. */
export function scrapedGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | undefined,
): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const value = read()
      if (value !== undefined) this.set(value)
    },
  })
}

/**
 * A gauge by one label, read when scraped: `read` answers a value per label value (a service's
 * rows by state, say). A read that fails leaves the last values.
 */
export function scrapedGaugeBy(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => Record<string, number>,
): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      let values: Record<string, number>
      try {
        values = read()
      } catch {
        return
      }
      this.reset()
      for (const [key, value] of Object.entries(values)) this.set({ [label]: key }, value)
    },
  })
}

export interface PlatformFigures {
  jobs(): { due: number; dead: number }
  outboxPending(): number
  /** Epoch ms of the oldest unsent outbox row, or null. */
  outboxOldestAt(): number | null
}

/** The platform's figures for one service: outbox backlog, jobs, and a dead-letter counter. */
export function platformMetrics(registry: Registry, figures: PlatformFigures) {
  // Read on scrape; a database closing during a scrape leaves the last value (the scrape still answers).
  const safely = (read: () => number) => () => {
    try {
      return read()
    } catch {
      return undefined
    }
  }
  scrapedGauge(
    registry,
    'mart_outbox_unsent',
    'Outbox rows not yet published.',
    safely(() => figures.outboxPending()),
  )
  scrapedGauge(
    registry,
    'mart_outbox_oldest_unsent_age_seconds',
    'Age of the oldest unsent outbox row in seconds (0 when none).',
    safely(() => {
      const at = figures.outboxOldestAt()
      return at === null ? 0 : Math.max(0, (Date.now() - at) / 1000)
    }),
  )
  scrapedGauge(
    registry,
    'mart_jobs_due',
    'Durable jobs due now (or whose runner died).',
    safely(() => figures.jobs().due),
  )
  scrapedGauge(
    registry,
    'mart_jobs_dead',
    'Durable jobs that gave up.',
    safely(() => figures.jobs().dead),
  )
  const deadLetters = new Counter({
    name: 'mart_dead_letters_total',
    help: "Events this service's consumer sent to a dead-letter topic since it started, by topic.",
    labelNames: ['topic'] as const,
    registers: [registry],
  })
  return { deadLettered: (topic: string) => deadLetters.inc({ topic }) }
}

// A scrape waits this long for the broker at most: a slow broker leaves the lag out, not the scrape hanging.
const LAG_TIMEOUT_MS = 2000

/**
 * `mart_consumer_lag{topic,partition}`: asked of the broker on each scrape, bounded by a short
 * timeout. When the broker does not answer in time the series are left out rather than stale.
 */
export function consumerLagMetric(registry: Registry, read: () => Promise<PartitionLag[]>): Gauge {
  return new Gauge({
    name: 'mart_consumer_lag',
    help: "Messages on the consumed topics not yet committed by this service's consumer group.",
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      this.reset()
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), LAG_TIMEOUT_MS)
      })
      const lags = await Promise.race([read().catch(() => null), timeout]).finally(() => clearTimeout(timer))
      for (const l of lags ?? []) this.set({ topic: l.topic, partition: String(l.partition) }, l.lag)
    },
  })
}
