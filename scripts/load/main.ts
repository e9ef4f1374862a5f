// `bun run load <scenario>`: an open-loop load generator against the whole of Mart, with a
// correctness check at the end of every run (a fast run that loses an order fails: exit code 1).
//   scenarios: browse | me | order | checkout | mix
//   --rate N --seconds S        a fixed offered rate (default 50/s for 10 s)
//   --find-max [--p99-ms 25]    step the rate up (--rate is the first step, x --step-factor each,
//                               up to --max-rate: 3000 with orders, else 20000) until p99 passes the
//                               bound or errors appear
//   --start embedded (default) | --start distributed (KAFKA_BROKERS) | --url http://host:port
//   --json                      one JSON document on stdout (progress stays on stderr)
// More: --warmup S, --users N, --products N, --pay cod|stripe|both, --settle-seconds S,
//   --no-baseline, --quiet. STRIPE_MOCK_URL enables card payments when the run starts Mart.
import { parseArgs } from 'node:util'
import { startBaseline } from './baseline.ts'
import { check } from './check.ts'
import { client } from './client.ts'
import { isGood, lastGood, nextRate, type Step } from './find-max.ts'
import { heapText, readHeapLog } from './heap-log.ts'
import { firstOrder, type OrderContext, type Pay, type Placed } from './orders.ts'
import { errorsText, fixed, machine, machineText, metricsTable, notesText } from './report.ts'
import { runStep, type StepResult } from './run.ts'
import * as scenarios from './scenarios.ts'
import { keepFresh, prepare } from './setup.ts'
import { type Mode, startTarget } from './target.ts'

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string' },
    'find-max': { type: 'boolean', default: false },
    'p99-ms': { type: 'string', default: '25' },
    'max-rate': { type: 'string' },
    'step-factor': { type: 'string', default: '1.5' },
    start: { type: 'string' },
    url: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    users: { type: 'string' },
    products: { type: 'string', default: '40' },
    pay: { type: 'string', default: 'both' },
    'settle-seconds': { type: 'string', default: '60' },
    'no-baseline': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    // For the smoke test only: the check expects the first product's stock off by this many units.
    'doctor-check': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})

function usage(message?: string): never {
  if (message) console.error(message)
  console.error(
    'usage: bun run load <browse|me|order|checkout|mix> [--rate N --seconds S | --find-max [--p99-ms 25]]\n' +
      '                     [--start embedded|distributed | --url http://host:port] [--json]',
  )
  process.exit(2)
}

if (opts.help) usage()
const name = (opts.scenario ?? positionals[0]) as scenarios.ScenarioName | undefined
if (!name || !scenarios.scenarioNames.includes(name))
  usage(`name a scenario: ${scenarios.scenarioNames.join(', ')}`)
const mode: Mode = opts.url ? 'url' : ((opts.start ?? 'embedded') as Mode)
if (!['embedded', 'distributed', 'url'].includes(mode)) usage(`--start embedded or --start distributed`)
const findMax = opts['find-max']
const rate = Number(opts.rate)
const seconds = Number(opts.seconds ?? (findMax ? 5 : 10))
const p99Ms = Number(opts['p99-ms'])
const ordering = ['order', 'checkout', 'mix'].includes(name)
// Orders need customers in proportion to the top rate (below): a ceiling within the box's reach.
const maxRate = Number(opts['max-rate'] ?? (ordering ? 3000 : 20_000))
const plan = { start: rate, factor: Number(opts['step-factor']), maxRate, p99Ms }
const pay = opts.pay as Pay | 'both'
if (!['cod', 'stripe', 'both'].includes(pay)) usage('--pay cod, stripe or both')
const quiet = opts.quiet || false
const say = (line: string) => {
  if (!quiet) console.error(line)
}
const brokers = process.env.KAFKA_BROKERS || process.env.KAFKA_BOOTSTRAP_SERVERS
const stripeMockUrl = process.env.STRIPE_MOCK_URL

const m = machine(mode === 'distributed' || Boolean(mode === 'url' && brokers))
say(machineText(m))
say(`starting Mart (${mode})...`)
const target = await startTarget({ mode, url: opts.url, brokers, stripeMockUrl })
// Each customer may hold 5 order streams at once, each open from the answer to `unpaid` (or paid):
// one customer for every 4 orders/s offered keeps them under it while an order takes up to a second.
// Behind Caddy a stream the client closed keeps its slot until the service's next heartbeat writes
// to it (up to 15 s): there, about 3 customers for every order/s.
const topRate = Math.min(findMax ? plan.maxRate : rate, 2000)
const perUser = target.via === 'caddy' ? 1 / 3 : 4
const users = Number(
  opts.users ?? (ordering ? Math.min(2000, Math.max(20, Math.ceil(topRate / perUser))) : 20),
)
const settings = {
  scenario: name,
  mode,
  via: target.via,
  url: target.url,
  ...(findMax ? { findMax: plan } : { rate, seconds }),
  stepSeconds: seconds,
  warmupSeconds: Number(opts.warmup),
  users,
  products: Number(opts.products),
  pay: name === 'checkout' || name === 'mix' ? (target.webhookSecret ? pay : 'cod') : undefined,
  logLevel: mode === 'url' ? undefined : (process.env.LOAD_LOG_LEVEL ?? 'info'),
  /** Where the server's data and log stay (LOAD_KEEP_DATA=1). */
  keptDataDir: process.env.LOAD_KEEP_DATA && mode !== 'url' ? target.dataDir : undefined,
}

if ((name === 'checkout' || name === 'mix') && pay !== 'cod' && !target.webhookSecret) {
  say('no Stripe here (STRIPE_MOCK_URL, or STRIPE_WEBHOOK_SECRET with --url): cash on delivery only')
}

let exitCode = 0
let stopRefreshing = () => {}
try {
  const call = client(target.url)
  say(`setting up: ${settings.products} products, ${users} customers...`)
  const world = await prepare(call, { admin: target.admin, products: settings.products, customers: users })
  stopRefreshing = keepFresh(call, [world.admin, ...world.customers])
  const ledger: Placed[] = []
  const ctx: OrderContext = {
    base: target.url,
    call,
    customers: world.customers,
    products: world.products,
    ledger,
    webhookSecret: target.webhookSecret,
  }
  if (ordering) await firstOrder(ctx)
  const parts = {
    browse: await scenarios.browse(target.url, call, world),
    me: scenarios.me(target.url, world),
    order: scenarios.order(ctx),
    checkout: scenarios.checkout(ctx, (settings.pay ?? 'cod') as Pay | 'both'),
  }
  const scenario = name === 'mix' ? scenarios.mix(parts) : parts[name]
  const serverPids = target.pid ? [target.pid] : []

  /** A fixed rate, or find-max's steps; the result that stands for the run. */
  const measure = async (s: scenarios.Scenario, pids: number[], label: string) => {
    if (Number(opts.warmup) > 0) {
      say(`${label}: warm-up, ${opts.warmup} s at ${rate}/s (not counted)`)
      await runStep(s, {
        rate,
        seconds: Number(opts.warmup),
        serverPids: pids,
        quiet,
        label: `${label} warm-up`,
      })
    }
    const steps: StepResult[] = []
    if (!findMax) {
      steps.push(await runStep(s, { rate, seconds, serverPids: pids, quiet, label }))
      return { steps, result: steps[0] as StepResult }
    }
    const asStep = (r: StepResult): Step => ({
      rate: r.offered,
      p99: r.metrics[r.headline]?.p99 ?? Number.NaN,
      errors: r.errorCount,
      achieved: r.achieved,
    })
    for (let next = nextRate([], plan); next !== null; next = nextRate(steps.map(asStep), plan)) {
      const r = await runStep(s, {
        rate: next,
        seconds,
        serverPids: pids,
        quiet,
        label: `${label} ${next}/s`,
      })
      steps.push(r)
      const st = asStep(r)
      say(
        `${label} step ${next}/s: p99 ${fixed(st.p99)} ms, ${st.errors} errors, achieved ${st.achieved.toFixed(0)}/s: ${isGood(st, p99Ms) ? 'good' : 'past the bound'}`,
      )
    }
    const good = lastGood(steps.map(asStep), p99Ms)
    return { steps, result: good ? steps.find((x) => x.offered === good.rate) : undefined }
  }

  const measuredFrom = Date.now()
  const main = await measure(scenario, serverPids, name)

  // The hello-world the same way, same generator, same run: browse only (the catalogue's yardstick).
  let baseline: Awaited<ReturnType<typeof measure>> | undefined
  if (name === 'browse' && !opts['no-baseline']) {
    const hello = await startBaseline(target.via)
    try {
      baseline = await measure(scenarios.hello(hello.url), hello.pids, `hello-world (${target.via})`)
    } finally {
      await hello.stop()
    }
  }

  say('checking the system: orders, stock, dead letters...')
  const doctor = opts['doctor-check'] ? Number(opts['doctor-check']) : undefined
  const verdict = await check({
    call,
    adminToken: world.admin.token,
    customerIds: world.customers.map((c) => c.id),
    products: world.products,
    ledger,
    target,
    settleMs: Number(opts['settle-seconds']) * 1000,
    doctor,
  })
  if (!verdict.ok) exitCode = 1

  const ratio =
    baseline?.result && main.result
      ? {
          p50:
            (main.result.metrics[main.result.headline]?.p50 ?? Number.NaN) /
            (baseline.result.metrics[baseline.result.headline]?.p50 ?? Number.NaN),
          p99:
            (main.result.metrics[main.result.headline]?.p99 ?? Number.NaN) /
            (baseline.result.metrics[baseline.result.headline]?.p99 ?? Number.NaN),
          serverCpuPerRequest: main.result.serverCpuMsPerOp / baseline.result.serverCpuMsPerOp,
          ...(findMax ? { maxRate: baseline.result.offered / main.result.offered } : {}),
        }
      : undefined
  const heapLog = process.env.LOAD_HEAP_LOG
  const heap = heapLog ? readHeapLog(heapLog, measuredFrom) : undefined
  const out = { machine: m, settings, ...main, baseline, ratio, heap, check: verdict }
  if (opts.json) console.log(JSON.stringify(out, null, 2))
  else {
    const print = (title: string, r: StepResult) => {
      console.log(`\n## ${title}\n`)
      console.log(
        `offered ${r.offered}/s for ${r.seconds} s; started ${r.started} (${r.achieved.toFixed(1)}/s achieved), ` +
          `${r.completed.toFixed(1)}/s completed; generator lag max ${fixed(r.maxStartLagMs)} ms; ` +
          `server CPU ${fixed(r.serverCpuMsPerOp)} ms/op, generator CPU ${fixed(r.generatorCpuMsPerOp)} ms/op, server RSS ${Number.isNaN(r.serverRssMiB) ? '-' : r.serverRssMiB.toFixed(0)} MiB\n`,
      )
      console.log(metricsTable(r.metrics, r.headline))
      console.log(`\n${errorsText(r.errors)}`)
      if (Object.keys(r.notes).length) console.log(notesText(r.notes))
    }
    console.log(`\n${machineText(m)}`)
    console.log(`settings: ${JSON.stringify(settings)}`)
    const printSteps = (title: string, m: Awaited<ReturnType<typeof measure>>) => {
      console.log(`\n${title}: find-max steps (p99 bound ${p99Ms} ms, ${seconds} s each)\n`)
      console.log('| offered /s | achieved /s | completed /s | p99 ms | errors | server CPU ms/op | |')
      console.log('| ---: | ---: | ---: | ---: | ---: | ---: | --- |')
      for (const r of m.steps) {
        const p99 = r.metrics[r.headline]?.p99 ?? Number.NaN
        console.log(
          `| ${r.offered} | ${r.achieved.toFixed(0)} | ${r.completed.toFixed(0)} | ${fixed(p99)} | ${r.errorCount} | ${fixed(r.serverCpuMsPerOp)} | ${r === m.result ? 'last good' : ''} |`,
        )
      }
    }
    if (findMax) {
      printSteps(name, main)
      if (baseline) printSteps('hello-world', baseline)
    }
    if (main.result)
      print(`${name} (${mode}, ${target.via})${findMax ? ': the last good step' : ''}`, main.result)
    else console.log(`\n${name}: no step was good (the first, ${rate}/s, was already past the bound)`)
    if (baseline?.result) print(`bare Elysia hello-world (${target.via}), same generator`, baseline.result)
    if (ratio) {
      console.log(
        `\n${name} / hello-world: p50 ${ratio.p50.toFixed(1)}x, p99 ${ratio.p99.toFixed(1)}x, server CPU per request ${ratio.serverCpuPerRequest.toFixed(1)}x` +
          (ratio.maxRate !== undefined
            ? `, hello-world's max rate ${ratio.maxRate.toFixed(1)}x browse's`
            : ''),
      )
    }
    if (heap) console.log(`\n${heapText(heap)}`)
    const f = verdict.figures
    console.log(
      `\ncorrectness: ${verdict.ok ? 'OK' : 'FAILED'}: ${f.ordersPlaced} orders placed (${JSON.stringify(f.states)}), ` +
        `dead letters ${f.deadLetters ?? 'not checked'}, settled after ${(f.settledAfterMs / 1000).toFixed(1)} s`,
    )
    for (const n of verdict.notes) console.log(`  note: ${n}`)
    for (const p of verdict.problems.slice(0, 20)) console.log(`  problem: ${p}`)
    if (verdict.problems.length > 20) console.log(`  ... and ${verdict.problems.length - 20} more`)
  }
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  exitCode = 1
} finally {
  stopRefreshing()
  await target.stop()
}
process.exit(exitCode)
