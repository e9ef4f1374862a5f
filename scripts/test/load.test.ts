// `bun run load`: the schedule, the histogram summary and find-max's stepping, by themselves; then
// the whole instrument once, briefly, against the embedded marketplace: it runs, its check passes,
// and the same check fails when its expectation is doctored. Nothing here asserts a timing.
import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { build } from 'hdr-histogram-js'
import { orderProblem } from '../load/check.ts'
import { isGood, lastGood, nextRate, type Step } from '../load/find-max.ts'
import { Latencies, summarise } from '../load/histogram.ts'
import { Recorder } from '../load/recorder.ts'
import { dueBy, openLoop, scheduledAt } from '../load/schedule.ts'
import { root } from '../services.ts'

test('request i is due at t0 + i/rate, the first at once, and no more than the total are ever due', () => {
  expect(scheduledAt(1000, 0, 200)).toBe(1000)
  expect(scheduledAt(1000, 1, 200)).toBe(1005)
  expect(scheduledAt(0, 300, 200)).toBe(1500)
  expect(dueBy(-1, 200, 10)).toBe(0)
  expect(dueBy(0, 200, 10)).toBe(1)
  expect(dueBy(4.99, 200, 10)).toBe(1)
  expect(dueBy(5, 200, 10)).toBe(2)
  expect(dueBy(60_000, 200, 10)).toBe(10)
})

test('the open loop starts each request at its own due time whatever the answers do, and catches up when late', async () => {
  let now = 0
  const fired: { i: number; at: number; startedAt: number }[] = []
  const never = new Promise<never>(() => {})
  const loop = await openLoop({
    rate: 100,
    seconds: 0.5,
    now: () => now,
    // A clock that stalls once (a busy event loop), otherwise wakes when asked.
    sleep: async (ms) => {
      now += now === 100 ? 95 : ms
    },
    fire: async (i, at) => {
      fired.push({ i, at, startedAt: now })
      // No request ever answers: a closed loop would have stopped after the first.
      return never
    },
  })
  expect(loop.started).toBe(50)
  expect(fired.map((f) => f.i)).toEqual(Array.from({ length: 50 }, (_, i) => i))
  // Each keeps its scheduled time, also those started late in a burst.
  expect(fired.map((f) => f.at)).toEqual(Array.from({ length: 50 }, (_, i) => i * 10))
  const burst = fired.filter((f) => f.startedAt === 195)
  expect(burst.map((f) => f.at)).toEqual([110, 120, 130, 140, 150, 160, 170, 180, 190])
  expect(loop.maxStartLagMs).toBe(85)
  expect(loop.inFlight).toHaveLength(50)
})

test('the histogram summary: percentiles, p99.9 and max in ms from µs, NaN when empty', () => {
  const l = new Latencies()
  expect(Number.isNaN(l.summary().p99)).toBe(true)
  for (let ms = 1; ms <= 1000; ms++) l.record(ms)
  const s = l.summary()
  expect(s.count).toBe(1000)
  // Three significant digits: within 0.1% of the exact rank.
  expect(s.p50).toBeCloseTo(500, -0.3)
  expect(s.p90).toBeCloseTo(900, -0.3)
  expect(s.p99).toBeCloseTo(990, -0.3)
  expect(s.p999).toBeCloseTo(999, -0.3)
  expect(s.max).toBeCloseTo(1000, -0.3)
  expect(s.mean).toBeCloseTo(500.5, -0.3)
  const h = build()
  h.recordValue(1500) // µs
  expect(summarise(h)).toMatchObject({ count: 1, p50: 1.5, max: 1.5 })
  l.reset()
  expect(l.count).toBe(0)
})

test('the recorder keeps a histogram per metric, errors by what and status, and the last second for the progress line', () => {
  const rec = new Recorder('placed -> unpaid')
  rec.record('placed -> unpaid', 4)
  rec.record('placed -> unpaid', 8)
  rec.record('POST /api/orders answered', 2)
  rec.error('POST /api/orders', 503)
  rec.error('POST /api/orders', 503)
  rec.error('GET stream', 'timeout')
  rec.note('stream 429: polled')
  expect(rec.takeSecond()).toMatchObject({ done: 2, errors: 3 })
  expect(rec.takeSecond()).toMatchObject({ done: 0, errors: 0 })
  const f = rec.figures()
  expect(f.errors).toEqual({ 'POST /api/orders 503': 2, 'GET stream timeout': 1 })
  // A fallback is not an error: find-max does not stop on it.
  expect(f.notes).toEqual({ 'stream 429: polled': 1 })
  expect(rec.errorCount).toBe(3)
  expect(Object.keys(f.metrics)).toEqual(['placed -> unpaid', 'POST /api/orders answered'])
  expect(f.metrics['placed -> unpaid']?.count).toBe(2)
})

test('find-max steps the rate up until a step is past the bound, errs or cannot be offered; the answer is the last good step', () => {
  const plan = { start: 100, factor: 1.5, maxRate: 1000, p99Ms: 25 }
  const step = (rate: number, p99: number, errors = 0, achieved = rate): Step => ({
    rate,
    p99,
    errors,
    achieved,
  })
  expect(nextRate([], plan)).toBe(100)
  expect(nextRate([step(100, 5)], plan)).toBe(150)
  expect(nextRate([step(100, 5), step(150, 9)], plan)).toBe(225)
  expect(nextRate([step(100, 5), step(150, 30)], plan)).toBeNull()
  expect(nextRate([step(100, 5, 1)], plan)).toBeNull()
  expect(nextRate([step(100, 5, 0, 80)], plan)).toBeNull()
  // The ceiling: one step at it, then stop.
  expect(nextRate([step(800, 5)], plan)).toBe(1000)
  expect(nextRate([step(1000, 5)], plan)).toBeNull()
  // A factor that would not move a small rate still moves it.
  expect(nextRate([step(1, 1)], { ...plan, start: 1, factor: 1.1 })).toBe(2)
  expect(isGood(step(100, 25), 25)).toBe(true)
  expect(isGood(step(100, 25.1), 25)).toBe(false)
  expect(lastGood([step(100, 5), step(150, 9), step(225, 40)], 25)?.rate).toBe(150)
  expect(lastGood([step(100, 40)], 25)).toBeUndefined()
  // A good step after a bad one does not count: the first bad step ends the climb.
  expect(lastGood([step(100, 5), step(150, 40), step(225, 5)], 25)?.rate).toBe(100)
})

/** `bun run load ...` with `args`, as a script runs it: its exit code and its JSON. */
async function load(args: string[]) {
  const child = Bun.spawn(['bun', join(root, 'scripts', 'load', 'main.ts'), ...args, '--json', '--quiet'], {
    cwd: root,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  let json: unknown
  try {
    json = JSON.parse(out)
  } catch {
    throw new Error(`no JSON from bun run load (exit ${code}):\n${out}\n${err}`)
  }
  // biome-ignore lint/suspicious/noExplicitAny: the report's JSON, read generically
  return { code, json: json as any, err }
}

test('the check takes an order whose last request went unanswered in either state, and no other', () => {
  const placed = { index: 7, id: 'o7', customerId: 'c', lines: [], expect: 'unpaid' as const }
  const timedOutPaying = { ...placed, maybe: 'confirmed' as const }
  expect(orderProblem(placed, { status: 'unpaid', payment: 'none' })).toBeUndefined()
  expect(orderProblem(placed, { status: 'confirmed', payment: 'pending' })).toContain(
    'drove it to unpaid/none',
  )
  expect(orderProblem(timedOutPaying, { status: 'confirmed', payment: 'pending' })).toBeUndefined()
  expect(orderProblem(timedOutPaying, { status: 'unpaid', payment: 'none' })).toBeUndefined()
  expect(orderProblem(timedOutPaying, { status: 'paid', payment: 'paid' })).toContain(
    'or, its last request unanswered',
  )
  expect(orderProblem(placed, undefined)).toContain('lost')
})

test('a short embedded run: every order followed and reconciled; with a doctored expectation the check fails the run', async () => {
  const short = ['--start', 'embedded', '--rate', '20', '--seconds', '2', '--warmup', '0', '--pay', 'cod']
  const good = await load(['mix', ...short])
  expect(good.err).not.toContain('problem')
  expect(good.code).toBe(0)
  expect(good.json.check).toMatchObject({ ok: true, problems: [] })
  expect(good.json.check.figures.ordersPlaced).toBeGreaterThan(1)
  expect(good.json.check.figures.deadLetters).toBe(0)
  expect(good.json.settings).toMatchObject({ scenario: 'mix', mode: 'embedded', via: 'direct' })
  expect(good.json.machine).toMatchObject({ cores: navigator.hardwareConcurrency, bun: Bun.version })
  expect(good.json.result.started).toBe(40)
  expect(Object.keys(good.json.result.metrics)).toEqual(
    expect.arrayContaining([
      'placed -> unpaid',
      'POST /api/orders answered',
      'page of 20',
      'GET /api/users/me',
    ]),
  )

  const doctored = await load(['order', ...short, '--settle-seconds', '1', '--doctor-check', '1'])
  expect(doctored.code).toBe(1)
  expect(doctored.json.check.ok).toBe(false)
  expect(doctored.json.check.problems.join('\n')).toMatch(
    /product .*: onHand \d+ reserved \d+, the orders imply/,
  )
}, 180_000)
