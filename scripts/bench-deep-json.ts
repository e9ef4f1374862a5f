// `bun run bench:deep-json`: what a few hostile bodies do to everyone else. Starts the embedded
// marketplace as its own process, then sends POST /api/auth/login with 50,000 nested arrays
// (100 KB, no token needed) several times at once while a client asks for /health in a loop, one
// request after another. Prints how each hostile request was answered, and how long /health
// waited: its slowest answer is how long the process stood still.
// Options: --parallel 4 --depth 50000 --node-env development (or production)
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ensureDevKeys } from '@mart/shared'
import { tempDir, waitFor } from '@mart/shared/testing'
import { machineLine, percentiles } from './bench/stats.ts'
import { root } from './services.ts'

const { values: opts } = parseArgs({
  options: {
    parallel: { type: 'string', default: '4' },
    depth: { type: 'string', default: '50000' },
    'node-env': { type: 'string', default: 'development' },
  },
})
const depth = Number(opts.depth)
const parallel = Number(opts.parallel)

const data = tempDir('mart-bench-deep-')
// Production refuses to start without keys: the development pair, handed over as production takes it.
const keys = await ensureDevKeys(data.dir)
const port = 18093
const child = Bun.spawn(['bun', join(root, 'scripts', 'dev.ts')], {
  cwd: root,
  env: {
    ...process.env,
    NODE_ENV: opts['node-env'],
    LOG_LEVEL: 'info',
    DATA_DIR: data.dir,
    PORT: String(port),
    KAFKA_BROKERS: '',
    ADMIN_PASSWORD: 'bench-admin-password',
    JWT_PRIVATE_KEY: keys.privateKey,
    JWT_PUBLIC_KEYS: keys.publicKeys,
  },
  stdout: 'ignore',
  stderr: 'inherit',
})
const base = `http://127.0.0.1:${port}`
await waitFor(async () => (await fetch(`${base}/ready`).catch(() => null))?.ok, 'the marketplace')

const body = `${'['.repeat(depth)}${']'.repeat(depth)}`
const elapsed = (start: number) => performance.now() - start

// /health, one request after another, until the hostile requests are all answered.
let attacking = true
const health: number[] = []
const probing = (async () => {
  while (attacking) {
    const start = performance.now()
    await (await fetch(`${base}/health`)).arrayBuffer()
    health.push(elapsed(start))
  }
})()
await Bun.sleep(200) // a baseline before the first hostile request
const attacks = await Promise.all(
  Array.from({ length: parallel }, async () => {
    const start = performance.now()
    const res = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const answer = await res.text()
    return { status: res.status, type: res.headers.get('content-type'), ms: elapsed(start), answer }
  }),
)
await Bun.sleep(200)
attacking = false
await probing
child.kill('SIGTERM')
await child.exited
data.cleanup()

const waited = percentiles(health)
console.log(
  `\n${parallel} x POST /api/auth/login with ${depth} nested arrays (${body.length} bytes), NODE_ENV=${opts['node-env']}\n${machineLine()}\n`,
)
console.log('| hostile request | status | content-type | ms |')
console.log('| --- | ---: | --- | ---: |')
attacks.forEach((a, i) => {
  console.log(`| ${i + 1} | ${a.status} | ${a.type} | ${a.ms.toFixed(1)} |`)
})
console.log(
  `\n/health meanwhile: ${waited.count} requests, p50 ${waited.p50.toFixed(2)} ms, max ${waited.max.toFixed(1)} ms`,
)
console.log(`first answer: ${attacks[0]?.answer.slice(0, 200)}`)
