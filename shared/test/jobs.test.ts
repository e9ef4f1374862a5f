// Durable jobs on a real SQLite file with the real runner: scheduling in the caller's transaction,
// the order and time jobs run in, retries, dead jobs and purging. A moved clock stands in for waiting.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { Type } from '@sinclair/typebox'
import Database from 'better-sqlite3'
import {
  declareJobs,
  defineJob,
  InvalidJobError,
  type JobKinds,
  type JobRunner,
  outboxStatements,
  PermanentError,
  type Store,
  tx,
} from '../src/index.ts'
import { capturedLogger, sampleProduct, tempDir, waitFor } from '../src/testing.ts'
import { effects, jobIn, jobOf, jobsStore, manualClock, startRunner, writeEffect } from './support/jobs.ts'

let tmp: ReturnType<typeof tempDir>
let store: Store
let runners: JobRunner[]
beforeEach(() => {
  tmp = tempDir()
  store = jobsStore(tmp.dir)
  runners = []
})
afterEach(async () => {
  for (const r of runners) await r.stop()
  store.close()
  tmp.cleanup()
})

const run = (kinds: JobKinds, opts: Parameters<typeof startRunner>[2] = {}) => {
  const runner = startRunner(store, kinds, opts)
  runners.push(runner)
  return runner
}

/** A kind whose run writes an effect row: what an order's expiry does to the order. */
const writes = () => defineJob({ run: (job) => void writeEffect(store, job.kind, job.key) })

/** A gate a test opens: `perform` waits on it. */
function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

describe('scheduling', () => {
  test('a job exists if and only if its transaction commits', () => {
    declareJobs(store, { 'order.expire': writes() })
    tx(store, (t) => {
      t.schedule('order.expire', { key: 'kept' })
    })
    expect(() =>
      tx(store, (t) => {
        t.schedule('order.expire', { key: 'rolled-back' })
        throw new Error('the order could not be placed')
      }),
    ).toThrow('the order could not be placed')
    expect(jobOf(store, 'order.expire', 'kept')).toMatchObject({ state: 'scheduled', attempts: 0 })
    expect(jobOf(store, 'order.expire', 'rolled-back')).toBeNull()
  })

  test('a job scheduled in a commit runs without waiting for the poll', async () => {
    run({ 'order.expire': writes() }, { pollMs: 600_000 })
    tx(store, (t) => void t.schedule('order.expire', { key: 'o1' }))
    await jobIn(store, 'order.expire', 'o1', 'done')
    expect(effects(store)).toEqual(['order.expire:o1'])
  })

  test('a job due later runs once its time comes, without waiting for the poll', async () => {
    run({ 'order.expire': writes() }, { pollMs: 600_000 })
    tx(store, (t) => void t.schedule('order.expire', { key: 'soon', at: Date.now() + 200 }))
    await jobIn(store, 'order.expire', 'soon', 'done')
  })

  test('a runner with nothing due only reads: it never waits for the write lock', async () => {
    const clock = manualClock()
    const log = capturedLogger('jobs')
    run({ 'order.expire': writes() }, { now: clock.now, log: log.log })
    // What placing an order does: its expiry is due in 30 minutes, and the commit wakes the runner.
    tx(store, (t) => void t.schedule('order.expire', { key: 'o1', at: clock.now() + 1_800_000 }))

    // Another connection holds the write lock (a request's transaction, the jobs CLI) while the
    // runner looks several times: a look that wrote would wait, then fail with SQLITE_BUSY.
    store.sqlite.pragma('busy_timeout = 50')
    const other = new Database(store.file)
    other.exec('BEGIN IMMEDIATE')
    await Bun.sleep(100)
    other.exec('COMMIT')
    other.close()
    expect(log.lines().filter((l) => l.msg === 'could not pick jobs')).toEqual([])

    clock.advance(1_800_000)
    await jobIn(store, 'order.expire', 'o1', 'done')
    expect(effects(store)).toEqual(['order.expire:o1'])
  })

  test('scheduling a job that is scheduled or running changes nothing; a done or dead one starts afresh', async () => {
    const release = gate()
    const clock = manualClock()
    let calls = 0
    run(
      {
        'payment.reconcile': defineJob({
          data: Type.Object({ amount: Type.Integer() }),
          retry: { attempts: 1, backoff: { initialMs: 1, maxMs: 1 } },
          async perform(job) {
            calls++
            if (job.data.amount < 0) throw new Error('negative amount')
            await release.opened
            return job.data.amount
          },
          record: (job, amount) => void writeEffect(store, job.kind, `${job.key}=${amount}`),
        }),
      },
      { now: clock.now },
    )
    const schedule = (key: string, amount: number, at = clock.now() + 60_000) =>
      tx(store, (t) => t.schedule('payment.reconcile', { key, at, data: { amount } }))

    expect(schedule('p1', 100)).toBe(true)
    expect(schedule('p1', 200, clock.now())).toBe(false)
    expect(jobOf(store, 'payment.reconcile', 'p1')).toMatchObject({
      state: 'scheduled',
      runAt: clock.now() + 60_000,
    })

    clock.advance(60_000)
    await jobIn(store, 'payment.reconcile', 'p1', 'running')
    expect(schedule('p1', 300)).toBe(false)
    release.open()
    await jobIn(store, 'payment.reconcile', 'p1', 'done')
    expect(effects(store)).toEqual(['payment.reconcile:p1=100'])

    // Done: scheduled anew, with the new data and a fresh budget.
    expect(schedule('p1', 400, clock.now())).toBe(true)
    await waitFor(() => effects(store).length === 2, 'the job to run again')
    expect(effects(store)).toEqual(['payment.reconcile:p1=100', 'payment.reconcile:p1=400'])

    // Dead: scheduled anew as well.
    schedule('p2', -1, clock.now())
    await jobIn(store, 'payment.reconcile', 'p2', 'dead')
    expect(schedule('p2', 5, clock.now())).toBe(true)
    expect(jobOf(store, 'payment.reconcile', 'p2')).toMatchObject({ attempts: 0, lastError: null })
    await jobIn(store, 'payment.reconcile', 'p2', 'done')
    expect(calls).toBe(4)
  })

  test('an undeclared kind or data its schema refuses fails the whole transaction', () => {
    declareJobs(store, {
      'order.expire': defineJob({ data: Type.Object({ orderId: Type.String() }), run: () => {} }),
      'stock.recount': writes(),
    })
    const attempt = (fn: Parameters<typeof tx>[1]) => () =>
      tx(store, (t) => {
        writeEffect(store, 'domain', 'write')
        fn(t)
      })
    expect(attempt((t) => t.schedule('order.expiry', { key: 'o1' }))).toThrow(
      'unknown job kind "order.expiry"',
    )
    expect(attempt((t) => t.schedule('order.expire', { key: 'o1', data: { orderId: 7 } }))).toThrow(
      InvalidJobError,
    )
    expect(attempt((t) => t.schedule('order.expire', { key: 'o1' }))).toThrow('invalid order.expire data')
    expect(attempt((t) => t.schedule('stock.recount', { key: 's1', data: { any: 1 } }))).toThrow(
      'job kind stock.recount takes no data',
    )
    expect(attempt((t) => t.schedule('stock.recount', { key: '' }))).toThrow('needs a key')
    expect(attempt((t) => t.schedule('stock.recount', { key: 's1', at: new Date('never') }))).toThrow(
      'must be a valid date',
    )
    expect(effects(store)).toEqual([])
    expect(store.sqlite.prepare('SELECT count(*) AS n FROM mart_jobs').get()).toEqual({ n: 0 })
  })
})

describe('cancelling', () => {
  test('a cancelled job never runs; a cancel that rolls back leaves it; a done job is not cancelled', async () => {
    const clock = manualClock()
    run({ 'order.expire': writes() }, { now: clock.now })
    tx(store, (t) => {
      for (const key of ['paid', 'unpaid', 'left'])
        t.schedule('order.expire', { key, at: clock.now() + 1000 })
    })
    expect(tx(store, (t) => t.cancelJob('order.expire', 'paid'))).toBe(true)
    expect(() =>
      tx(store, (t) => {
        t.cancelJob('order.expire', 'left')
        throw new Error('rolled back')
      }),
    ).toThrow('rolled back')
    expect(tx(store, (t) => t.cancelJob('order.expire', 'never-scheduled'))).toBe(false)
    clock.advance(1000)
    await jobIn(store, 'order.expire', 'left', 'done')
    await jobIn(store, 'order.expire', 'unpaid', 'done')
    expect(jobOf(store, 'order.expire', 'paid')).toBeNull()
    expect(effects(store).sort()).toEqual(['order.expire:left', 'order.expire:unpaid'])
    expect(tx(store, (t) => t.cancelJob('order.expire', 'unpaid'))).toBe(false)
    expect(jobOf(store, 'order.expire', 'unpaid')?.state).toBe('done')
  })

  test('a job cancelled while it performs has its outcome discarded', async () => {
    const release = gate()
    const log = capturedLogger('jobs')
    let performed = false
    run(
      {
        'payment.capture': defineJob({
          async perform() {
            await release.opened
            performed = true
            return 'captured'
          },
          record: (job, result) => void writeEffect(store, job.kind, `${job.key}:${result}`),
        }),
      },
      { log: log.log },
    )
    tx(store, (t) => void t.schedule('payment.capture', { key: 'pay-1' }))
    await jobIn(store, 'payment.capture', 'pay-1', 'running')
    expect(tx(store, (t) => t.cancelJob('payment.capture', 'pay-1'))).toBe(true)
    release.open()
    await waitFor(
      () =>
        log
          .lines()
          .find((l) => l.msg === 'job cancelled or retried while it ran; its outcome is not recorded'),
      'the runner to drop the outcome',
    )
    expect(performed).toBe(true)
    expect(effects(store)).toEqual([])
    expect(jobOf(store, 'payment.capture', 'pay-1')).toBeNull()
  })
})

describe('running', () => {
  test('due jobs run in run_at order; a job due later waits for its time', async () => {
    const clock = manualClock()
    const at = (s: number) => clock.now() + s * 1000
    run({ 'order.expire': writes() }, { now: clock.now, concurrency: 2 })
    tx(store, (t) => {
      t.schedule('order.expire', { key: 'third', at: at(30) })
      t.schedule('order.expire', { key: 'first', at: at(10) })
      t.schedule('order.expire', { key: 'later', at: at(100) })
      t.schedule('order.expire', { key: 'second', at: at(20) })
    })
    clock.advance(50_000)
    await jobIn(store, 'order.expire', 'third', 'done')
    expect(effects(store)).toEqual(['order.expire:first', 'order.expire:second', 'order.expire:third'])
    expect(jobOf(store, 'order.expire', 'later')?.state).toBe('scheduled')

    clock.advance(50_000)
    await jobIn(store, 'order.expire', 'later', 'done')
    expect(effects(store).at(-1)).toBe('order.expire:later')
  })

  test('at most the configured number of jobs run at once; the others wait, counted as due', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>()
    let active = 0
    let mostAtOnce = 0
    const runner = run(
      {
        'mail.send': defineJob({
          async perform(job) {
            active++
            mostAtOnce = Math.max(mostAtOnce, active)
            await (gates.get(job.key) as ReturnType<typeof gate>).opened
            active--
          },
          record: (job) => void writeEffect(store, job.kind, job.key),
        }),
      },
      { concurrency: 2 },
    )
    const keys = ['m1', 'm2', 'm3', 'm4', 'm5']
    for (const key of keys) gates.set(key, gate())
    tx(store, (t) => {
      for (const key of keys) t.schedule('mail.send', { key })
    })
    await waitFor(() => active === 2, 'two jobs running')
    expect(runner.figures()).toEqual({ due: 3, dead: 0 })
    for (const key of keys) {
      gates.get(key)?.open()
      await jobIn(store, 'mail.send', key, 'done')
    }
    expect(mostAtOnce).toBe(2)
    expect(effects(store).sort()).toEqual(keys.map((k) => `mail.send:${k}`))
    expect(runner.figures()).toEqual({ due: 0, dead: 0 })
  })

  test('jobs that finish together are recorded together, each on its own: one that throws or was cancelled takes no other with it', async () => {
    const release = gate()
    const log = capturedLogger('jobs')
    run(
      {
        'mail.send': defineJob({
          retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
          async perform(job) {
            if (job.attempt === 1) await release.opened
            return job.key
          },
          record(job, key, t) {
            writeEffect(store, job.kind, `${key}#${job.attempt}`)
            t.afterCommit(() => log.log.info({ key }, 'recorded'))
            if (key === 'refused' && job.attempt === 1) throw new Error('the ledger refused it')
          },
        }),
      },
      { concurrency: 4, log: log.log },
    )
    const keys = ['m1', 'refused', 'cancelled', 'm2']
    tx(store, (t) => {
      for (const key of keys) t.schedule('mail.send', { key })
    })
    for (const key of keys) await jobIn(store, 'mail.send', key, 'running')
    tx(store, (t) => void t.cancelJob('mail.send', 'cancelled'))
    release.open()

    await jobIn(store, 'mail.send', 'm1', 'done')
    await jobIn(store, 'mail.send', 'm2', 'done')
    // Its first record rolled back alone (its effect and its afterCommit with it), then retried.
    expect(await jobIn(store, 'mail.send', 'refused', 'done')).toMatchObject({ attempts: 2 })
    expect(jobOf(store, 'mail.send', 'cancelled')).toBeNull()
    expect(effects(store).sort()).toEqual(['mail.send:m1#1', 'mail.send:m2#1', 'mail.send:refused#2'])
    expect(
      log
        .lines()
        .filter((l) => l.msg === 'recorded')
        .map((l) => l.key)
        .sort(),
    ).toEqual(['m1', 'm2', 'refused'])
    expect(log.lines().filter((l) => l.msg === 'job failed; retrying')).toMatchObject([
      { key: 'refused', error: 'the ledger refused it' },
    ])
    expect(
      log
        .lines()
        .filter((l) => l.msg === 'job cancelled or retried while it ran; its outcome is not recorded'),
    ).toMatchObject([{ key: 'cancelled' }])
  })

  test('a job that runs long keeps its lease: renewed once half of it is gone, not on every look', async () => {
    const clock = manualClock()
    const slow = gate()
    run(
      {
        'mail.send': defineJob({
          perform: async () => {
            await slow.opened
          },
          record: (job) => void writeEffect(store, job.kind, job.key),
        }),
        'order.expire': writes(),
      },
      { now: clock.now, leaseMs: 1000 },
    )
    tx(store, (t) => void t.schedule('mail.send', { key: 'slow', at: clock.now() }))
    const leased = await jobIn(store, 'mail.send', 'slow', 'running')
    expect(leased.leaseUntil).toBe(clock.now() + 1000)

    // Other jobs come and go (each wakes the runner) while less than half of the lease is gone.
    clock.advance(400)
    for (const key of ['o1', 'o2', 'o3']) {
      tx(store, (t) => void t.schedule('order.expire', { key, at: clock.now() }))
      await jobIn(store, 'order.expire', key, 'done')
    }
    expect(jobOf(store, 'mail.send', 'slow')?.leaseUntil).toBe(leased.leaseUntil)

    // Past half of it: renewed from now, before it can expire, under the same attempt.
    clock.advance(200)
    await waitFor(
      () => jobOf(store, 'mail.send', 'slow')?.leaseUntil === clock.now() + 1000,
      'the lease renewed',
    )
    clock.advance(600)
    await waitFor(
      () => jobOf(store, 'mail.send', 'slow')?.leaseUntil === clock.now() + 1000,
      'the lease renewed again',
    )
    slow.open()
    expect(await jobIn(store, 'mail.send', 'slow', 'done')).toMatchObject({ attempts: 1 })
    expect(effects(store)).toEqual([
      'order.expire:o1',
      'order.expire:o2',
      'order.expire:o3',
      'mail.send:slow',
    ])
  })

  test('a failing job is retried with growing backoff, then dead with the error', async () => {
    const clock = manualClock()
    const log = capturedLogger('jobs')
    const runner = run(
      {
        'payment.charge': defineJob({
          retry: { attempts: 3, backoff: { initialMs: 1000, maxMs: 60_000 } },
          perform: async () => {
            throw new Error('card issuer unavailable')
          },
          record: () => {},
        }),
      },
      { now: clock.now, log: log.log },
    )
    tx(store, (t) => void t.schedule('payment.charge', { key: 'pay-9', at: clock.now() }))

    // Full jitter: the n-th retry waits between half and all of 1 s * 2^(n-1).
    for (const [attempt, ceiling] of [
      [1, 1000],
      [2, 2000],
    ] as const) {
      const job = await waitFor(() => {
        const j = jobOf(store, 'payment.charge', 'pay-9')
        return j?.state === 'scheduled' && j.attempts === attempt ? j : null
      }, `attempt ${attempt} to fail`)
      expect(job.lastError).toBe('card issuer unavailable')
      expect(job.runAt - clock.now()).toBeGreaterThanOrEqual(ceiling / 2)
      expect(job.runAt - clock.now()).toBeLessThanOrEqual(ceiling)
      clock.advance(job.runAt - clock.now())
    }
    const dead = await jobIn(store, 'payment.charge', 'pay-9', 'dead')
    expect(dead).toMatchObject({ attempts: 3, lastError: 'card issuer unavailable', leaseUntil: null })
    expect(runner.figures()).toEqual({ due: 0, dead: 1 })

    const lines = log.lines().filter((l) => l.kind === 'payment.charge')
    expect(lines.filter((l) => l.msg === 'job failed; retrying').map((l) => [l.level, l.attempt])).toEqual([
      [40, 1],
      [40, 2],
    ])
    expect(lines.find((l) => l.msg === 'job failed; retrying')).toMatchObject({
      key: 'pay-9',
      error: 'card issuer unavailable',
      retryInMs: expect.any(Number),
    })
    expect(lines.find((l) => l.msg === 'job dead')).toMatchObject({
      level: 50,
      key: 'pay-9',
      attempt: 3,
      error: 'card issuer unavailable',
    })
    // The message only: no stack in the row or the log.
    expect(log.text()).not.toContain('stack')
    expect(log.text()).not.toContain('    at ')
  })

  test('a long error message is cut short in the row and the log', async () => {
    run({
      'mail.send': defineJob({
        retry: { attempts: 1, backoff: { initialMs: 1, maxMs: 1 } },
        run: () => {
          throw new Error(`SMTP said: ${'x'.repeat(5000)}`)
        },
      }),
    })
    tx(store, (t) => void t.schedule('mail.send', { key: 'm1' }))
    const dead = await jobIn(store, 'mail.send', 'm1', 'dead')
    expect(dead.lastError?.length).toBe(1000)
    expect(dead.lastError?.startsWith('SMTP said: xxx')).toBe(true)
  })

  test('a PermanentError is dead at once, without retries', async () => {
    const log = capturedLogger('jobs')
    run(
      {
        'order.expire': defineJob({
          run: () => {
            throw new PermanentError('order 7 is already paid')
          },
        }),
      },
      { log: log.log },
    )
    tx(store, (t) => void t.schedule('order.expire', { key: 'o7' }))
    const dead = await jobIn(store, 'order.expire', 'o7', 'dead')
    expect(dead).toMatchObject({ attempts: 1, lastError: 'order 7 is already paid' })
    expect(log.lines().filter((l) => l.msg === 'job failed; retrying')).toEqual([])
    expect(log.lines().find((l) => l.msg === 'job dead')).toMatchObject({ kind: 'order.expire', key: 'o7' })
  })

  test('a job whose data no longer matches its schema, or whose kind is gone, is dead at once', async () => {
    const v1 = {
      'order.expire': defineJob({ data: Type.Object({ orderId: Type.String() }), run: () => {} }),
    }
    declareJobs(store, { ...v1, 'order.remind': writes() })
    tx(store, (t) => {
      t.schedule('order.expire', { key: 'o1', data: { orderId: 'o1' } })
      t.schedule('order.remind', { key: 'o1' })
    })
    run({ 'order.expire': defineJob({ data: Type.Object({ orderId: Type.Integer() }), run: () => {} }) })
    expect((await jobIn(store, 'order.expire', 'o1', 'dead')).lastError).toStartWith(
      'invalid order.expire data: /orderId',
    )
    expect((await jobIn(store, 'order.remind', 'o1', 'dead')).lastError).toBe(
      'this service has no job kind "order.remind"',
    )
  })

  test("a run job's writes, its events and its done mark commit together", async () => {
    let failFirst = true
    run({
      'order.expire': defineJob({
        retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 1 } },
        run: (job, t) => {
          writeEffect(store, job.kind, job.key)
          t.publish('product.created', sampleProduct(job.key), { subject: job.key })
          if (failFirst) {
            failFirst = false
            throw new Error('lock wait')
          }
        },
      }),
    })
    tx(store, (t) => void t.schedule('order.expire', { key: 'o1' }))
    const done = await jobIn(store, 'order.expire', 'o1', 'done')
    expect(done).toMatchObject({ attempts: 2, lastError: 'lock wait' })
    expect(effects(store)).toEqual(['order.expire:o1'])
    expect(outboxStatements(store).countPending.get()?.n).toBe(1)
  })

  test('a job runs in the trace of the transaction that scheduled it, as a span of its own', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const scheduler = `00-${traceId}-00f067aa0ba902b7-01`
    // The service's own logger, as a job kind holds it: its lines say the job's trace.
    const service = capturedLogger('order')
    run({
      'order.expire': defineJob({
        run: (job, t) => {
          service.log.info({ key: job.key }, 'expiring')
          t.publish('product.created', sampleProduct(job.key), { subject: job.key })
        },
      }),
    })
    tx(store, (t) => void t.schedule('order.expire', { key: 'traced' }), { traceparent: scheduler })
    tx(store, (t) => void t.schedule('order.expire', { key: 'untraced' }))
    await jobIn(store, 'order.expire', 'traced', 'done')
    await jobIn(store, 'order.expire', 'untraced', 'done')
    const traceparents = Object.fromEntries(
      outboxStatements(store)
        .pending.all(10)
        .map((row) => [row.key, (JSON.parse(row.headers) as { traceparent?: string }).traceparent]),
    )
    expect(traceparents.traced).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    expect(traceparents.traced).not.toBe(scheduler)
    expect(traceparents.untraced).toBeUndefined()
    const logged = Object.fromEntries(service.lines().map((l) => [l.key, l.traceId]))
    expect(logged).toEqual({ traced: traceId, untraced: undefined })
  })

  test('done jobs are purged past their retention; dead and waiting ones stay', async () => {
    const hour = 3_600_000
    const clock = manualClock()
    const kinds = {
      'order.expire': writes(),
      'mail.send': defineJob({
        run: () => {
          throw new PermanentError('no such recipient')
        },
      }),
    }
    const first = run(kinds, { now: clock.now })
    tx(store, (t) => {
      t.schedule('order.expire', { key: 'old', at: clock.now() })
      t.schedule('mail.send', { key: 'old', at: clock.now() })
      t.schedule('order.expire', { key: 'waiting', at: clock.now() + 1000 * hour })
    })
    await jobIn(store, 'order.expire', 'old', 'done')
    await jobIn(store, 'mail.send', 'old', 'dead')
    clock.advance(167 * hour)
    tx(store, (t) => void t.schedule('order.expire', { key: 'recent', at: clock.now() }))
    await jobIn(store, 'order.expire', 'recent', 'done')
    await first.stop()

    // A runner purges when it starts, and every purge interval after.
    clock.advance(2 * hour)
    const log = capturedLogger('jobs')
    run(kinds, { now: clock.now, retentionMs: 168 * hour, log: log.log })
    expect(jobOf(store, 'order.expire', 'old')).toBeNull()
    expect(jobOf(store, 'order.expire', 'recent')?.state).toBe('done')
    expect(jobOf(store, 'mail.send', 'old')?.state).toBe('dead')
    expect(jobOf(store, 'order.expire', 'waiting')?.state).toBe('scheduled')
    expect(log.lines().find((l) => l.msg === 'purged done jobs')).toMatchObject({ level: 30, jobs: 1 })
  })

  test('a purge that fails is logged, and the process carries on', async () => {
    const log = capturedLogger('jobs')
    run({ 'order.expire': writes() }, { purgeEveryMs: 10, log: log.log })
    store.sqlite.close()
    await waitFor(
      () => log.lines().find((l) => l.msg === 'could not purge done jobs'),
      'the failed purge logged',
    )
    expect(log.lines().find((l) => l.msg === 'could not purge done jobs')).toMatchObject({
      level: 40,
      error: 'The database connection is not open',
    })
  })
})
