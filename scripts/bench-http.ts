// `bun run bench:http`: catalogue reads over real HTTP, measured by wrk (Debian's `wrk`), against a
// bare Elysia hello-world on the same machine (DESIGN: an anonymous page of 20 within 3x of it,
// served the same way). Each server runs as its own process: the hello-world, the embedded
// marketplace (every service behind one listener, as `bun run dev` runs it), the product service
// alone, and (with Caddy on PATH) the hello-world and the product service each behind the root
// Caddyfile. `me` compares an authenticated GET /api/users/me (the user service alone, a bearer
// token) with anonymous reads of about the same size (the product service alone: a page of one,
// from the page cache, and one product by id, read from the database).
// Beside wrk's figures: the server's CPU time (every thread) per request, which moves less than
// requests/s when other work shares the machine, and the load average at the start.
// Options: --seconds 10 --connections 32 --cases hello,embedded,product,caddy,me
//          --profile DIR (the marketplace and the services run under `bun --cpu-prof`, a profile
//          each in DIR; summarise one with `bun scripts/bench/cpuprofile.ts DIR/NAME.cpuprofile`)
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { tempDir, waitFor } from '@mart/shared/testing'
import { machineLine } from './bench/stats.ts'
import { caddyBinary, type RunningCaddy, startCaddy } from './caddy.ts'
import { entryOf, root } from './services.ts'

const allCases = ['hello', 'embedded', 'product', 'caddy', 'me'] as const
const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
    cases: { type: 'string', default: allCases.join(',') },
    profile: { type: 'string' },
  },
})
const cases = new Set(opts.cases.split(','))
for (const c of cases) {
  if (!allCases.includes(c as (typeof allCases)[number])) {
    console.error(`unknown case ${c}: pick from ${allCases.join(', ')}`)
    process.exit(2)
  }
}
if (!Bun.which('wrk')) {
  console.error('bench:http needs wrk (Debian: apt-get install wrk)')
  process.exit(2)
}
if (cases.has('caddy') && !caddyBinary()) {
  console.warn('no caddy on PATH: the Caddy cases are left out')
  cases.delete('caddy')
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

interface Server {
  pid: number
  stop(): Promise<void>
}

async function serve(
  cmd: string[],
  port: number,
  readyPath: string,
  extra: Record<string, string> = {},
): Promise<Server> {
  const child = Bun.spawn(cmd, {
    cwd: root,
    env: { ...env, ...extra, PORT: String(port) },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}${readyPath}`).catch(() => null))?.ok,
    `:${port}`,
  )
  return {
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM')
      await child.exited
    },
  }
}

/** The process's CPU time so far, every thread, in µs (utime + stime of /proc/PID/stat). */
function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces), which ends at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return (ticks * 1_000_000) / 100 // USER_HZ is 100 on Linux
}

function wrk(url: string, seconds: string, headers: Record<string, string> = {}) {
  const args = ['wrk', '-t1', `-c${opts.connections}`, `-d${seconds}s`, '--latency']
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`)
  const r = Bun.spawnSync([...args, url])
  const out = r.stdout.toString()
  const ms = (label: string) => {
    const m = out.match(new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`))
    if (!m) return Number.NaN
    return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'] ?? Number.NaN)
  }
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1]
  if (errors) throw new Error(`${url}: ${errors} failed responses`)
  return {
    requests: Number(out.match(/(\d+) requests in/)?.[1]),
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]),
    p50: ms('50'),
    p99: ms('99'),
  }
}

interface Result {
  name: string
  /** Which hello-world it is compared with. */
  way: 'direct' | 'caddy'
  rps: number
  p50: number
  p99: number
  /** CPU µs per request of the Bun server, and of Caddy in front of it. */
  cpu: number
  caddyCpu?: number
  bytes: number
}

const results: Result[] = []

async function measure(
  name: string,
  way: Result['way'],
  url: string,
  server: Server,
  opts2: { caddy?: RunningCaddy; headers?: Record<string, string> } = {},
) {
  const probe = await fetch(url, { headers: opts2.headers })
  if (!probe.ok) throw new Error(`${url}: ${probe.status}`)
  const bytes = (await probe.arrayBuffer()).byteLength
  wrk(url, '3', opts2.headers) // warm-up: JIT, SQLite page cache
  const caddyPid = opts2.caddy?.process.pid
  const before = { server: cpuMicros(server.pid), caddy: caddyPid ? cpuMicros(caddyPid) : 0 }
  const r = wrk(url, opts.seconds, opts2.headers)
  const cpu = cpuMicros(server.pid) - before.server
  const caddyCpu = caddyPid ? cpuMicros(caddyPid) - before.caddy : undefined
  results.push({
    name,
    way,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    cpu: cpu / r.requests,
    caddyCpu: caddyCpu === undefined ? undefined : caddyCpu / r.requests,
    bytes,
  })
}

const gateway = (upstream: string) =>
  startCaddy({
    env: { ...process.env, GATEWAY_PORT: '18093' },
    port: 18093,
    upstreams: { product: upstream },
    logFile: '/dev/null', // Caddy logs each request as it would in production
  })

const load = loadavg().map((l) => l.toFixed(2))
/** `bun` for one of the measured servers, with the profiler when asked: its profile is DIR/NAME.cpuprofile. */
const bun = (name: string) =>
  opts.profile
    ? ['bun', '--cpu-prof', `--cpu-prof-dir=${opts.profile}`, `--cpu-prof-name=${name}.cpuprofile`]
    : ['bun']

if (cases.has('hello') || cases.has('caddy')) {
  const hello = await serve(['bun', join(root, 'scripts', 'bench', 'hello.ts')], 18090, '/')
  if (cases.has('hello')) await measure('bare Elysia hello-world', 'direct', 'http://127.0.0.1:18090/', hello)
  if (cases.has('caddy')) {
    const caddy = await gateway('127.0.0.1:18090')
    // The hello-world answers every path: Caddy routes /api/products to it as it would to the product service.
    await measure('bare Elysia hello-world through Caddy', 'caddy', `${caddy.url}/api/products`, hello, {
      caddy,
    })
    await caddy.stop()
  }
  await hello.stop()
}

// The embedded marketplace: seed 50 products through the API, then read a page of 20.
let server = await serve([...bun('embedded'), join(root, 'scripts', 'dev.ts')], 18091, '/ready')
let base = 'http://127.0.0.1:18091'
const login = async () => {
  const r = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  })
  if (!r.ok) throw new Error(`login failed: ${r.status}`)
  return ((await r.json()) as { accessToken: string }).accessToken
}
const accessToken = await login()
let someId = ''
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
  someId = ((await r.json()) as { id: string }).id
}
const page = '/api/products?limit=20'
if (cases.has('embedded'))
  await measure('embedded: GET /api/products?limit=20', 'direct', `${base}${page}`, server)
await server.stop()

// The product service alone on the same data.
if (cases.has('product') || cases.has('caddy') || cases.has('me')) {
  server = await serve([...bun('product'), entryOf('product')], 18092, '/ready', { TRUST_PROXY: 'true' })
  if (cases.has('product'))
    await measure('product service alone: same page', 'direct', `http://127.0.0.1:18092${page}`, server)
  if (cases.has('caddy')) {
    const caddy = await gateway('127.0.0.1:18092')
    await measure('product service through Caddy: same page', 'caddy', `${caddy.url}${page}`, server, {
      caddy,
    })
    await caddy.stop()
  }
  if (cases.has('me')) {
    await measure(
      'product service alone: GET /api/products?limit=1 (anonymous, cached)',
      'direct',
      `http://127.0.0.1:18092/api/products?limit=1`,
      server,
    )
    await measure(
      'product service alone: GET /api/products/:id (anonymous)',
      'direct',
      `http://127.0.0.1:18092/api/products/${someId}`,
      server,
    )
  }
  await server.stop()
}

// The user service alone: the admin's own profile, with a bearer token.
if (cases.has('me')) {
  server = await serve([...bun('user'), entryOf('user')], 18094, '/ready')
  base = 'http://127.0.0.1:18094'
  const token = await login()
  await measure(
    'user service alone: GET /api/users/me (bearer token)',
    'direct',
    `${base}/api/users/me`,
    server,
    {
      headers: { authorization: `Bearer ${token}` },
    },
  )
  await server.stop()
}
data.cleanup()

const hello = {
  direct: results.find((r) => r.name === 'bare Elysia hello-world')?.rps ?? Number.NaN,
  caddy: results.find((r) => r.name === 'bare Elysia hello-world through Caddy')?.rps ?? Number.NaN,
}
console.log(
  `\nwrk -t1 -c${opts.connections} -d${opts.seconds}s after 3 s of warm-up; load average ${load.join(' ')} at the start; ${machineLine()}\n`,
)
console.log(
  '| server | bytes | requests/s | p50 ms | p99 ms | server CPU µs/request | Caddy CPU µs/request | hello-world / this |',
)
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.bytes} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpu.toFixed(1)} | ${r.caddyCpu?.toFixed(1) ?? ''} | ${(hello[r.way] / r.rps).toFixed(2)}x |`,
  )
}
