// `bun run bench:http`: catalogue reads over real HTTP, measured by wrk (Debian's `wrk`), against a
// bare Elysia hello-world on the same machine (DESIGN: catalogue reads within 2x of it). Each
// server runs as its own process: the hello-world, the product service alone, and the embedded
// marketplace (every service behind one listener, as `bun run dev` runs it).
// Options: --seconds 10 --connections 32
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { tempDir, waitFor } from '@mart/shared/testing'
import { machineLine } from './bench/stats.ts'
import { entryOf, root } from './services.ts'

const { values: opts } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } },
})
if (!Bun.which('wrk')) {
  console.error('bench:http needs wrk (Debian: apt-get install wrk)')
  process.exit(2)
}

const data = tempDir('mart-bench-http-')
const admin = { username: 'admin', password: 'bench-admin-password' }
const env = {
  ...process.env,
  NODE_ENV: 'development',
  LOG_LEVEL: 'info', // one access line per request, as in production (to /dev/null here)
  DATA_DIR: data.dir,
  ADMIN_USERNAME: admin.username,
  ADMIN_EMAIL: 'admin@mart.test',
  ADMIN_PASSWORD: admin.password,
  KAFKA_BROKERS: '',
}

async function serve(cmd: string[], port: number, readyPath: string) {
  const child = Bun.spawn(cmd, {
    cwd: root,
    env: { ...env, PORT: String(port) },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}${readyPath}`).catch(() => null))?.ok,
    `:${port}`,
  )
  return async () => {
    child.kill('SIGTERM')
    await child.exited
  }
}

function wrk(url: string, seconds: string) {
  const r = Bun.spawnSync(['wrk', '-t1', `-c${opts.connections}`, `-d${seconds}s`, '--latency', url])
  const out = r.stdout.toString()
  const ms = (label: string) => {
    const m = out.match(new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`))
    if (!m) return Number.NaN
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'] ?? Number.NaN)
  }
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1]
  if (errors) throw new Error(`${url}: ${errors} failed responses`)
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]), p50: ms('50'), p99: ms('99') }
}

async function measure(name: string, url: string) {
  wrk(url, '3') // warm-up: JIT, SQLite page cache
  return { name, ...wrk(url, opts.seconds) }
}

const results = []
let stop = await serve(['bun', join(root, 'scripts', 'bench', 'hello.ts')], 18090, '/')
results.push(await measure('bare Elysia hello-world', 'http://127.0.0.1:18090/'))
await stop()

// The embedded marketplace: seed 50 products through the API, then read a page of 20.
stop = await serve(['bun', join(root, 'scripts', 'dev.ts')], 18091, '/ready')
const base = 'http://127.0.0.1:18091'
const login = await fetch(`${base}/api/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(admin),
})
const { accessToken } = (await login.json()) as { accessToken: string }
for (let i = 0; i < 50; i++) {
  const r = await fetch(`${base}/api/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({
      name: `Product ${i}`,
      description: `A product to read, number ${i}`,
      price: { amount: 1000 + i, currency: 'EUR' },
      initialStock: 10,
    }),
  })
  if (r.status !== 201) throw new Error(`seeding failed: ${r.status}`)
}
const page = '/api/products?limit=20'
results.push(await measure('embedded: GET /api/products?limit=20', `${base}${page}`))
await stop()

// The product service alone on the same data.
stop = await serve(['bun', entryOf('product')], 18092, '/ready')
results.push(await measure('product service alone: same page', `http://127.0.0.1:18092${page}`))
await stop()
data.cleanup()

const hello = results[0]?.rps ?? Number.NaN
console.log(`\nwrk -t1 -c${opts.connections} -d${opts.seconds}s after 3 s of warm-up; ${machineLine()}\n`)
console.log('| server | requests/s | p50 ms | p99 ms | hello-world / this |')
console.log('| --- | ---: | ---: | ---: | ---: |')
for (const r of results) {
  console.log(
    `| ${r.name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(hello / r.rps).toFixed(2)}x |`,
  )
}
