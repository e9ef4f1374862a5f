// The system under load: started here as `bun run dev` would run it (embedded, or distributed on
// Kafka behind Caddy) on a temporary DATA_DIR and free ports, or one already running (--url).
import { openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { serviceNames } from '@mart/shared'
import { tempDir } from '@mart/shared/testing'
import { root } from '../services.ts'
import { answers, freePort, stopChild, until } from './processes.ts'

export type Mode = 'embedded' | 'distributed' | 'url'

export interface Target {
  mode: Mode
  url: string
  /** Direct to the app, or through the Caddy gateway: the hello-world baseline is served the same way. */
  via: 'direct' | 'caddy'
  admin: { username: string; password: string }
  /** Where the embedded bus journal is (<dir>/bus.db), for the dead letters. */
  dataDir?: string
  kafka?: { brokers: string[]; topicPrefix: string }
  /** Signs the Stripe webhooks the checkout scenario sends; none: cash on delivery only. */
  webhookSecret?: string
  /** The process whose tree serves the requests (for CPU and memory), when started here. */
  pid?: number
  /** Where the server's own output went. */
  logFile?: string
  /** Each service's own address (distributed, started here): /ready, /metrics. */
  services?: Record<string, string>
  stop(): Promise<void>
}

const ADMIN = { username: 'loadadmin', password: 'load-admin-password-1' }
const WEBHOOK_SECRET = 'whsec_mart_load'

export interface StartOptions {
  mode: Mode
  url?: string
  brokers?: string
  stripeMockUrl?: string
}

export async function startTarget(o: StartOptions): Promise<Target> {
  if (o.mode === 'url') return existing(o.url as string)
  const tmp = tempDir(`mart-load-${o.mode}-`)
  const logFile = join(tmp.dir, 'server.log')
  const port = freePort()
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: 'development',
    // One access line per request, as in production (to a file here).
    LOG_LEVEL: process.env.LOAD_LOG_LEVEL ?? 'info',
    LOG_PRETTY: 'false',
    HOST: '127.0.0.1',
    DATA_DIR: tmp.dir,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_EMAIL: 'loadadmin@mart.test',
    ADMIN_PASSWORD: ADMIN.password,
    // Cheap hashing (the default costs ~160 ms a hash on two cores) and every client is 127.0.0.1:
    // registering the run's customers is set-up, not what is measured.
    PASSWORD_MEMORY_KIB: '1024',
    PASSWORD_TIME_COST: '1',
    REGISTER_MAX_PER_ADDRESS: '1000000',
    LOGIN_MAX_PER_ADDRESS: '1000000',
    KAFKA_BROKERS: '',
    KAFKA_BOOTSTRAP_SERVERS: '',
  }
  if (o.stripeMockUrl) {
    Object.assign(env, {
      STRIPE_SECRET_KEY: 'sk_test_martload',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_URL: o.stripeMockUrl,
    })
  }
  let kafka: Target['kafka']
  const direct: number[] = []
  const services: Record<string, string> = {}
  if (o.mode === 'distributed') {
    if (!o.brokers) throw new Error('--start distributed needs KAFKA_BROKERS (host:port)')
    kafka = {
      brokers: o.brokers.split(','),
      topicPrefix: `load-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}.`,
    }
    env.KAFKA_BROKERS = o.brokers
    env.KAFKA_TOPIC_PREFIX = kafka.topicPrefix
    env.GATEWAY_PORT = String(port)
    env.PUBLIC_URL = `http://127.0.0.1:${port}`
    for (const name of serviceNames) {
      const p = freePort()
      direct.push(p)
      services[name] = `http://127.0.0.1:${p}`
      env[`${name.toUpperCase()}_PORT`] = String(p)
    }
  } else {
    env.PORT = String(port)
    env.PUBLIC_URL = `http://127.0.0.1:${port}`
  }
  const log = openSync(logFile, 'a')
  // LOAD_CPU_PROF=DIR: each of the marketplace's Bun processes (dev.ts, and distributed the six
  // services it starts, which inherit BUN_OPTIONS) writes a CPU profile there as it stops; summarise
  // them with scripts/bench/cpuprofile.ts.
  if (process.env.LOAD_CPU_PROF) env.BUN_OPTIONS = `--cpu-prof --cpu-prof-dir=${process.env.LOAD_CPU_PROF}`
  // LOAD_STALL_LOG=FILE: the marketplace's process records its event loop's delays, its WALs and
  // what its thread and the machine were doing (scripts/load/stall-monitor.ts; summarise it with
  // scripts/load/stalls.ts).
  // LOAD_HEAP_LOG=FILE: it also writes its JS heap after a full collection every LOAD_HEAP_EVERY
  // seconds (scripts/load/heap-watch.ts): the report summarises it. The embedded mode's one process.
  // LOAD_COMMITS=FILE: it counts its SQLite commits per database into FILE as it stops
  // (scripts/bench/count-commits.ts; it slows every statement: not for CPU figures).
  const preload = [
    ...(process.env.LOAD_STALL_LOG ? ['--preload', join(root, 'scripts', 'load', 'stall-monitor.ts')] : []),
    ...(process.env.LOAD_HEAP_LOG ? ['--preload', join(root, 'scripts', 'load', 'heap-watch.ts')] : []),
    ...(process.env.LOAD_COMMITS ? ['--preload', join(root, 'scripts', 'bench', 'count-commits.ts')] : []),
  ]
  if (process.env.LOAD_COMMITS) env.COUNT_COMMITS_OUT = process.env.LOAD_COMMITS
  const child = Bun.spawn(['bun', ...preload, join(root, 'scripts', 'dev.ts')], {
    cwd: root,
    env,
    stdin: 'ignore',
    stdout: log,
    stderr: log,
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    await stopChild(child)
    if (!process.env.LOAD_KEEP_DATA) tmp.cleanup()
  }
  try {
    const ready = async () => {
      if (child.exitCode !== null) {
        const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n')
        throw new Error(`bun scripts/dev.ts exited with ${child.exitCode}:\n${tail}`)
      }
      if (o.mode === 'embedded') return answers(`${url}/ready`)
      for (const p of direct) if (!(await answers(`http://127.0.0.1:${p}/ready`))) return false
      return answers(`${url}/health`)
    }
    await until(`Mart (${o.mode}) to be ready`, ready, 120_000)
  } catch (err) {
    // What the server said is in a directory about to be removed: keep its last lines.
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n')
    await stop()
    throw new Error(`${err instanceof Error ? err.message : String(err)}\nthe server's last lines:\n${tail}`)
  }
  return {
    mode: o.mode,
    url,
    via: o.mode === 'distributed' ? 'caddy' : 'direct',
    admin: ADMIN,
    dataDir: tmp.dir,
    kafka,
    webhookSecret: o.stripeMockUrl ? WEBHOOK_SECRET : undefined,
    pid: child.pid,
    logFile,
    services: o.mode === 'distributed' ? services : undefined,
    stop,
  }
}

/** A Mart already running: admin credentials from ADMIN_USERNAME/ADMIN_PASSWORD. */
function existing(url: string): Target {
  const { ADMIN_USERNAME, ADMIN_PASSWORD } = process.env
  if (!ADMIN_USERNAME || !ADMIN_PASSWORD) throw new Error('--url needs ADMIN_USERNAME and ADMIN_PASSWORD')
  const brokers = process.env.KAFKA_BROKERS || process.env.KAFKA_BOOTSTRAP_SERVERS
  return {
    mode: 'url',
    url: url.replace(/\/$/, ''),
    via: process.env.LOAD_VIA === 'caddy' ? 'caddy' : 'direct',
    admin: { username: ADMIN_USERNAME, password: ADMIN_PASSWORD },
    // Where its dead letters are, if it says: its DATA_DIR (embedded) or its Kafka and prefix.
    dataDir: brokers ? undefined : process.env.DATA_DIR,
    kafka: brokers
      ? { brokers: brokers.split(','), topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? '' }
      : undefined,
    webhookSecret: process.env.STRIPE_WEBHOOK_SECRET,
    stop: async () => {},
  }
}
