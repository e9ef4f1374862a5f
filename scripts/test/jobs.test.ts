// `bun run jobs` through the real scripts/jobs.ts process, on the embedded layout (every service's
// database in one DATA_DIR) and on per-service data directories, while the services' runners run.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { defineJob, type JobRunner, PermanentError, type Store, tx } from '@mart/shared'
import { tempDir } from '@mart/shared/testing'
import { jobIn, jobOf, jobsStore, startRunner, writeEffect } from '../../shared/test/support/jobs.ts'

const script = join(import.meta.dir, '..', 'jobs.ts')

let tmp: ReturnType<typeof tempDir>
let open: { store: Store; runner: JobRunner }[]
beforeEach(() => {
  tmp = tempDir()
  open = []
})
afterEach(async () => {
  for (const { store, runner } of open) {
    await runner.stop()
    store.close()
  }
  tmp.cleanup()
})

/**
 * A service's database in `dir` with its runner: its `mail.send` jobs fail permanently until
 * `fixed()`, its `order.expire` jobs write an effect. Schedules one dead and one done job.
 */
async function service(dir: string, name: string) {
  mkdirSync(dir, { recursive: true })
  const store = jobsStore(dir, name)
  let broken = true
  const runner = startRunner(store, {
    'mail.send': defineJob({
      run: (job) => {
        if (broken) throw new PermanentError(`SMTP refused ${job.key}`)
        writeEffect(store, job.kind, job.key)
      },
    }),
    'order.expire': defineJob({ run: (job) => void writeEffect(store, job.kind, job.key) }),
  })
  open.push({ store, runner })
  tx(store, (t) => {
    t.schedule('mail.send', { key: `${name}-welcome` })
    t.schedule('mail.send', { key: `${name}-receipt` })
    t.schedule('order.expire', { key: `${name}-o1` })
    t.schedule('order.expire', { key: `${name}-later`, at: Date.now() + 3_600_000 })
  })
  await jobIn(store, 'mail.send', `${name}-welcome`, 'dead')
  await jobIn(store, 'mail.send', `${name}-receipt`, 'dead')
  await jobIn(store, 'order.expire', `${name}-o1`, 'done')
  return {
    store,
    fixed: () => {
      broken = false
    },
  }
}

function cli(args: string[], dataDir?: string) {
  const r = Bun.spawnSync(['bun', script, ...args], {
    env: { ...process.env, DATA_DIR: dataDir ?? join(tmp.dir, 'nowhere') },
  })
  const stdout = r.stdout.toString().trim()
  return {
    code: r.exitCode,
    stdout,
    stderr: r.stderr.toString(),
    jobs: () => stdout.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

describe('bun run jobs', () => {
  test('in the embedded layout: lists every service, filters by service and state, retries one and every dead one', async () => {
    const order = await service(tmp.dir, 'order')
    const payment = await service(tmp.dir, 'payment')

    const all = cli(['list'], tmp.dir)
    expect(all.code).toBe(0)
    expect(
      all
        .jobs()
        .map((j) => `${j.service} ${j.kind} ${j.key} ${j.state}`)
        .sort(),
    ).toEqual(
      [
        'order mail.send order-receipt dead',
        'order mail.send order-welcome dead',
        'order order.expire order-later scheduled',
        'order order.expire order-o1 done',
        'payment mail.send payment-receipt dead',
        'payment mail.send payment-welcome dead',
        'payment order.expire payment-later scheduled',
        'payment order.expire payment-o1 done',
      ].sort(),
    )
    const dead = cli(['list', '--service', 'payment', '--state', 'dead'], tmp.dir)
    expect(dead.jobs()).toEqual([
      expect.objectContaining({
        service: 'payment',
        kind: 'mail.send',
        state: 'dead',
        attempts: 1,
        lastError: expect.stringMatching(/^SMTP refused payment-(welcome|receipt)$/),
        runAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
      expect.objectContaining({ service: 'payment', kind: 'mail.send', state: 'dead' }),
    ])
    expect(cli(['list', '--service', 'order', '--state', 'running'], tmp.dir).stdout).toBe(
      'no running jobs in order',
    )

    // The cause fixed, one job back while its service runs: due now, a fresh budget.
    order.fixed()
    const one = cli(['retry', 'order', 'mail.send', 'order-welcome'], tmp.dir)
    expect(one).toMatchObject({ code: 0, stdout: 'order: mail.send job order-welcome is due now' })
    await jobIn(order.store, 'mail.send', 'order-welcome', 'done')
    expect(jobOf(order.store, 'mail.send', 'order-welcome')?.attempts).toBe(1)
    expect(jobOf(order.store, 'mail.send', 'order-receipt')?.state).toBe('dead')

    // Every dead job of one service; the other's stay dead.
    payment.fixed()
    const allDead = cli(['retry', '--all-dead', '--service', 'order'], tmp.dir)
    expect(allDead).toMatchObject({ code: 0, stdout: 'order: retried 1 dead job(s)' })
    await jobIn(order.store, 'mail.send', 'order-receipt', 'done')
    expect(jobOf(payment.store, 'mail.send', 'payment-welcome')?.state).toBe('dead')
    expect(cli(['retry', '--all-dead'], tmp.dir).stdout.split('\n').sort()).toEqual([
      'order: retried 0 dead job(s)',
      'payment: retried 2 dead job(s)',
    ])
    await jobIn(payment.store, 'mail.send', 'payment-welcome', 'done')
    await jobIn(payment.store, 'mail.send', 'payment-receipt', 'done')
  })

  test('on per-service data directories, with --data-dir', async () => {
    const orderDir = join(tmp.dir, 'order-data')
    const paymentDir = join(tmp.dir, 'payment-data')
    await service(orderDir, 'order')
    const payment = await service(paymentDir, 'payment')

    const listed = cli(['list', '--data-dir', paymentDir, '--state', 'dead'])
    expect(listed.jobs().map((j) => j.service)).toEqual(['payment', 'payment'])
    expect(cli(['list', '--service', 'order'], paymentDir)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`no database for order at ${join(paymentDir, 'order.db')}`),
    })

    payment.fixed()
    expect(cli(['retry', 'payment', 'mail.send', 'payment-receipt', '--data-dir', paymentDir]).code).toBe(0)
    await jobIn(payment.store, 'mail.send', 'payment-receipt', 'done')
    // DATA_DIR works as well as --data-dir.
    expect(
      cli(['list', '--state', 'dead'], orderDir)
        .jobs()
        .map((j) => j.key),
    ).toHaveLength(2)
  })

  test('refuses what it cannot do, saying why', async () => {
    const order = await service(tmp.dir, 'order')
    const refused = (args: string[]) => {
      const r = cli(args, tmp.dir)
      return { code: r.code, said: r.stderr.split('\n')[0] }
    }
    expect(refused(['retry', 'order', 'order.expire', 'order-o1'])).toEqual({
      code: 1,
      said: "order's order.expire job order-o1 is done: schedule it again from the service instead",
    })
    expect(refused(['retry', 'order', 'mail.send', 'nobody'])).toEqual({
      code: 1,
      said: 'order has no mail.send job nobody',
    })
    expect(refused(['retry', '../etc/passwd', 'mail.send', 'x'])).toMatchObject({
      code: 2,
      said: expect.stringContaining('no service "../etc/passwd"'),
    })
    expect(refused(['list', '--state', 'lost'])).toEqual({ code: 2, said: 'no state "lost"' })
    expect(refused(['retry', 'order'])).toMatchObject({ code: 2 })
    expect(refused(['purge'])).toMatchObject({ code: 2 })
    // A scheduled job is made due now: the one due in an hour runs at once.
    expect(refused(['retry', 'order', 'order.expire', 'order-later']).code).toBe(0)
    await jobIn(order.store, 'order.expire', 'order-later', 'done')
  })
})
