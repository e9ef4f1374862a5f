// Jobs in a service the platform runs: handlers schedule them from events (delivered twice), the
// runner runs them, /ready shows the backlog without going down over a dead job, and SIGTERM lets
// the running job finish (or leaves it for the restart) and picks no other.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import {
  MemoryBus,
  openJobsDatabase,
  openStore,
  type RunningService,
  retryJob,
  startEmbedded,
  startService,
} from '../src/index.ts'
import {
  type ServiceHarness,
  sampleProduct,
  startHarness,
  tempDir,
  testLogger,
  waitFor,
} from '../src/testing.ts'
import { COUNT_DELAY_MS, definition } from './fixtures/jobs-service.ts'
import { jobIn, jobOf, outsideLines } from './support/jobs.ts'
import { spawnStandalone } from './support/standalone.ts'

let tmp: ReturnType<typeof tempDir>
beforeEach(() => {
  tmp = tempDir()
})
afterEach(() => tmp.cleanup())

describe('a service with jobs', () => {
  let h: ServiceHarness
  beforeEach(async () => {
    h = await startHarness(definition)
  })
  afterEach(() => h.stop())

  test('two events delivered twice schedule the job once; it runs once', async () => {
    const [created] = await h.apply(
      ['product.created', sampleProduct('p1'), 'p1'],
      ['product.updated', { ...sampleProduct('p1'), changed: ['name'] }, 'p1'],
    )
    const { store } = h.svc
    expect(store.sqlite.prepare('SELECT kind, key FROM mart_jobs').all()).toEqual([
      { kind: 'stock.count', key: 'p1' },
    ])
    // The second schedule changed nothing: the job is due when the first asked.
    expect(jobOf(store, 'stock.count', 'p1')).toMatchObject({
      state: 'scheduled',
      attempts: 0,
      runAt: Date.parse(created?.occurredAt ?? '') + COUNT_DELAY_MS,
    })

    // Made due now from outside the process, as `bun run jobs retry` does: the runner sees it.
    const db = openJobsDatabase(store.file)
    expect(retryJob(db, 'stock.count', 'p1')).toBe(true)
    db.close()
    await jobIn(store, 'stock.count', 'p1', 'done')
    expect(store.sqlite.prepare('SELECT kind, key FROM recorded').all()).toEqual([
      { kind: 'stock.count', key: 'p1' },
    ])
  })

  test('/ready shows due and dead jobs and unsent events, and stays ready with a dead job', async () => {
    const ready = async () => {
      const res = await h.call('GET', '/ready')
      return { status: res.status, body: res.body }
    }
    expect(await ready()).toEqual({
      status: 200,
      body: { status: 'ready', bus: 'connected', jobs: { due: 0, dead: 0 }, outbox: { pending: 0 } },
    })
    // A job of a kind the service no longer has: dead as soon as the runner sees it.
    const now = Date.now()
    h.svc.store.sqlite
      .prepare(
        "INSERT INTO mart_jobs (kind, key, state, run_at, attempts, created_at, updated_at) VALUES ('order.remind', 'o1', 'scheduled', ?, 0, ?, ?)",
      )
      .run(now, now, now)
    await jobIn(h.svc.store, 'order.remind', 'o1', 'dead')
    expect(await ready()).toEqual({
      status: 200,
      body: { status: 'ready', bus: 'connected', jobs: { due: 0, dead: 1 }, outbox: { pending: 0 } },
    })
  })
})

test('the embedded /ready shows each service its figures', async () => {
  const mart = await startEmbedded([definition], { env: { DATA_DIR: tmp.dir }, port: 0, log: testLogger() })
  try {
    const res = await fetch(`${mart.url}/ready`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      status: 'ready',
      notReady: [],
      services: { order: { bus: 'connected', jobs: { due: 0, dead: 0 }, outbox: { pending: 0 } } },
    })
  } finally {
    await mart.stop()
  }
})

describe('SIGTERM', () => {
  /** The fixture service as its own process, on its own bus; `call` schedules an outside call. */
  async function spawnService(env: Record<string, string>) {
    const svc = await spawnStandalone('jobs-service.ts', tmp.dir, env)
    const call = async (key: string, ms: number) => {
      const res = await fetch(`${svc.url}/api/orders/calls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key, ms }),
      })
      expect(res.status).toBe(202)
    }
    return { call, stop: svc.terminate, lines: svc.lines }
  }

  const outside = () => outsideLines(join(tmp.dir, 'outside.log'))
  const store = () => openStore({ file: join(tmp.dir, 'order.db'), source: 'order' })

  test('the running job finishes and no new one is picked; the waiting one runs after the restart', async () => {
    const svc = await spawnService({ JOBS_CONCURRENCY: '1' })
    await svc.call('first', 1500)
    await svc.call('second', 0)
    await waitFor(() => outside().includes('started first'), 'the first job to start')
    expect(await svc.stop()).toBe(0)
    expect(svc.lines.map((l) => l.msg)).toContain('stopped')
    expect(outside()).toEqual(['started first', 'performed first'])
    const db = store()
    expect(jobOf(db, 'outside.call', 'first')).toMatchObject({ state: 'done', attempts: 1 })
    expect(jobOf(db, 'outside.call', 'second')).toMatchObject({ state: 'scheduled', attempts: 0 })
    db.close()

    const restarted = await startService(definition, {
      env: { DATA_DIR: tmp.dir },
      bus: new MemoryBus(),
      log: testLogger('order'),
    })
    await jobIn(restarted.store, 'outside.call', 'second', 'done')
    await restarted.stop()
    expect(outside()).toEqual(['started first', 'performed first', 'started second', 'performed second'])
  })

  test('a job still running at the shutdown timeout is left, and runs again once its lease expires', async () => {
    const svc = await spawnService({ JOBS_LEASE_SECONDS: '1', SHUTDOWN_TIMEOUT_MS: '2000' })
    await svc.call('slow', 60_000)
    await waitFor(() => outside().includes('started slow'), 'the job to start')
    expect(await svc.stop()).toBe(0)
    expect(
      svc.lines.find(
        (l) => l.msg === 'jobs still running at shutdown; they run again once their lease expires',
      ),
    ).toMatchObject({
      level: 40,
      jobs: [{ kind: 'outside.call', key: 'slow' }],
    })
    expect(outside()).toEqual(['started slow'])
    let restarted: RunningService | undefined
    try {
      restarted = await startService(definition, {
        env: { DATA_DIR: tmp.dir },
        bus: new MemoryBus(),
        log: testLogger('order'),
      })
      await jobIn(restarted.store, 'outside.call', 'slow', 'done')
      expect(jobOf(restarted.store, 'outside.call', 'slow')?.attempts).toBe(2)
      expect(restarted.store.sqlite.prepare('SELECT kind, key FROM recorded').all()).toEqual([
        { kind: 'outside.call', key: 'slow' },
      ])
    } finally {
      await restarted?.stop()
    }
    expect(outside()).toEqual(['started slow', 'started slow', 'performed slow'])
  })
})
