// GET /metrics on a service's own app: requests by route pattern and status, the platform's
// figures (outbox, jobs, dead letters) read on scrape, Prometheus text format, one registry per
// service, and nothing of it through the embedded listener.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createHttpApp, startEmbedded } from '../src/index.ts'
import {
  describeKafka,
  kafkaTestBus,
  type ServiceHarness,
  sampleProduct,
  startHarness,
  tempDir,
  testLogger,
  waitFor,
} from '../src/testing.ts'
import { definition } from './fixtures/jobs-service.ts'

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text format strictly: every line a comment or `name{labels} value`. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line)
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[k as string] = v as string
    }
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) })
  }
  return samples
}

const sampleValue = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

describe('GET /metrics', () => {
  let h: ServiceHarness
  beforeEach(async () => {
    // Each message once: a redelivered bad message is dead-lettered again, and counted again.
    h = await startHarness(definition, { duplicateDelivery: false })
  })
  afterEach(() => h.stop())

  const scrape = async () => {
    const res = await h.svc.app.handle(new Request('http://order.mart.test/metrics'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/plain')
    return parseMetrics(await res.text())
  }

  test('counts requests by method, route pattern and status, with a latency histogram', async () => {
    const call = (path: string, init?: RequestInit) =>
      h.svc.app.handle(new Request(`http://order.mart.test${path}`, init))
    await call('/health')
    await call('/health')
    await call('/nowhere/123')
    await call('/nowhere/456')
    const invalid = await call('/api/orders/calls', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(invalid.status).toBe(422)

    const health = { method: 'GET', route: '/health', status: '200', service: 'order' }
    // Counted once the answer has gone, like the access line.
    const samples = await waitFor(async () => {
      const s = await scrape()
      return sampleValue(s, 'mart_http_requests_total', { route: '/api/orders/calls' }) ? s : null
    }, 'the requests to be counted')
    expect(sampleValue(samples, 'mart_http_requests_total', health)).toBe(2)
    expect(sampleValue(samples, 'mart_http_request_duration_seconds_count', health)).toBe(2)
    expect(sampleValue(samples, 'mart_http_request_duration_seconds_bucket', { ...health, le: '+Inf' })).toBe(
      2,
    )
    // Unmatched paths share one label: the raw paths never become labels.
    expect(
      sampleValue(samples, 'mart_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }),
    ).toBe(2)
    expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes('123')))).toBe(false)
    expect(
      sampleValue(samples, 'mart_http_requests_total', {
        method: 'POST',
        route: '/api/orders/calls',
        status: '422',
      }),
    ).toBe(1)
  })

  test('shows the outbox backlog and its oldest row, jobs due and dead, read when scraped', async () => {
    let samples = await scrape()
    expect(sampleValue(samples, 'mart_outbox_unsent')).toBe(0)
    expect(sampleValue(samples, 'mart_outbox_oldest_unsent_age_seconds')).toBe(0)
    expect(sampleValue(samples, 'mart_jobs_due')).toBe(0)
    expect(sampleValue(samples, 'mart_jobs_dead')).toBe(0)

    // A row the relay has not sent: it is stopped, and the row was staged a minute ago.
    await h.svc.relay.stop()
    h.svc.store.sqlite
      .prepare(
        `INSERT INTO mart_outbox (event_id, topic, key, value, headers, created_at)
         VALUES ('e1', 'order.events', 'k', '{}', '{}', ?)`,
      )
      .run(Date.now() - 60_000)
    // A job that gave up.
    h.svc.store.sqlite
      .prepare(
        `INSERT INTO mart_jobs (kind, key, data, state, run_at, attempts, created_at, updated_at)
         VALUES ('stock.count', 'dead', NULL, 'dead', 0, 5, 0, 0)`,
      )
      .run()

    samples = await scrape()
    expect(sampleValue(samples, 'mart_outbox_unsent')).toBe(1)
    expect(sampleValue(samples, 'mart_outbox_oldest_unsent_age_seconds')).toBeGreaterThanOrEqual(60)
    expect(sampleValue(samples, 'mart_jobs_dead')).toBe(h.svc.jobs.figures().dead)
    expect(sampleValue(samples, 'mart_jobs_dead')).toBe(1)
  })

  test('counts what the consumer dead-lettered, by topic', async () => {
    expect(sampleValue(await scrape(), 'mart_dead_letters_total')).toBeUndefined()
    await h.sendRaw('product.events', 'p1', 'not json')
    await h.sendRaw('product.events', 'p2', 'not json either')
    await waitFor(() => h.deadLetters().length === 2, 'two dead letters')
    await waitFor(
      async () => sampleValue(await scrape(), 'mart_dead_letters_total', { topic: 'product.events' }) === 2,
      'the counter to show them',
    )
  })
})

test('each app has its own registry: two services in one process do not mix', async () => {
  const log = testLogger()
  const ready = () => true
  const a = createHttpApp({ service: 'product', log, ready, bodyLimit: 1024 })
  const b = createHttpApp({ service: 'user', log, ready, bodyLimit: 1024 })
  await a.handle(new Request('http://a.test/health'))
  await waitFor(
    async () => (await (await a.handle(new Request('http://a.test/metrics'))).text()).includes('"/health"'),
    "product's request to be counted",
  )
  const text = await (await b.handle(new Request('http://b.test/metrics'))).text()
  const samples = parseMetrics(text)
  expect(samples.every((s) => s.labels.service === 'user')).toBe(true)
  expect(sampleValue(samples, 'mart_http_requests_total', { route: '/health' })).toBeUndefined()
})

test('the embedded listener does not expose /metrics', async () => {
  const tmp = tempDir()
  const mart = await startEmbedded([definition], { env: { DATA_DIR: tmp.dir }, port: 0, log: testLogger() })
  try {
    for (const path of ['/metrics', '/api/order/metrics', '/api/orders/metrics', '/api/orders/../metrics']) {
      const res = await fetch(`${mart.url}${path}`)
      expect(res.status).toBe(404)
      expect(await res.text()).not.toContain('mart_http_requests_total')
    }
    // The service's own app still answers it (its standalone listener).
    const own = await mart.services[0]?.app.handle(new Request('http://order.mart.test/metrics'))
    expect(own?.status).toBe(200)
  } finally {
    await mart.stop()
    tmp.cleanup()
  }
})

describeKafka('consumer lag on Kafka', (brokers) => {
  test("a group's lag is what was written and not committed, per partition", async () => {
    const bus = kafkaTestBus(brokers, 'metrics-lag')
    try {
      await bus.ensureTopics(['product.events'])
      await bus.publish([
        { topic: 'product.events', key: 'a', value: '1', headers: {} },
        { topic: 'product.events', key: 'b', value: '2', headers: {} },
      ])
      // A group that never committed is behind by everything still on the topic.
      const lags = await bus.lag('nobody', ['product.events'])
      expect(lags.map((l) => l.partition).sort()).toEqual([0, 1, 2])
      expect(lags.reduce((n, l) => n + l.lag, 0)).toBe(2)
      expect(lags.every((l) => l.topic === 'product.events')).toBe(true)
    } finally {
      await bus.close()
    }
  })

  test('GET /metrics shows the service group lag per topic and partition, down to 0 once handled', async () => {
    const bus = kafkaTestBus(brokers, 'metrics-service')
    const h = await startHarness(definition, { bus })
    try {
      const [created] = await h.apply(['product.created', sampleProduct('p1'), 'p1'])
      expect(created).toBeDefined()
      await waitFor(async () => {
        const res = await h.svc.app.handle(new Request('http://order.mart.test/metrics'))
        const lags = parseMetrics(await res.text()).filter(
          (s) => s.name === 'mart_consumer_lag' && s.labels.topic === 'product.events',
        )
        // Committed shortly after the handler resolved.
        return lags.length === 3 && lags.every((l) => l.value === 0)
      }, 'the lag series, at 0')
    } finally {
      await h.stop()
      await bus.close()
    }
  })
})
