// Starts the user service the way it runs (real SQLite file, real bus) and talks to it over HTTP.
import {
  type Bus,
  type Delivery,
  decodeEvent,
  type Logger,
  MemoryBus,
  type RunningService,
  startService,
} from '@mart/shared'
import { capturedLogger, collect, type HttpCall, httpClient, tempDir } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export const ADMIN = { username: 'root', email: 'root@mart.test', password: 'root-password' }

export type Call = HttpCall

export async function startUser(
  env: Record<string, string> = {},
  opts: {
    bus?: Bus
    dir?: string /** Instead of the captured one (benchmarks: a silent logger). */
    log?: Logger
  } = {},
) {
  const tmp = opts.dir ? { dir: opts.dir, cleanup() {} } : tempDir('mart-user-')
  const bus = opts.bus ?? new MemoryBus()
  if (!opts.bus) await bus.ensureTopics(['user.events'])
  const events = await collect(bus, `observer-${crypto.randomUUID()}`, ['user.events'])
  const logs = capturedLogger('user')
  const svc: RunningService = await startService(definition, {
    env: {
      NODE_ENV: 'test',
      DATA_DIR: tmp.dir,
      // Cheap hashing for tests only: the default costs ~160 ms a hash.
      PASSWORD_MEMORY_KIB: '1024',
      PASSWORD_TIME_COST: '1',
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // Suites register many users from one address; one test keeps the default (10 an hour).
      REGISTER_MAX_PER_ADDRESS: '1000',
      ...env,
    },
    bus,
    log: opts.log ?? logs.log,
  })

  const call = httpClient(svc.app, 'http://user.mart.test')

  async function register(username: string, password = 'password-123', email = `${username}@example.com`) {
    const r = await call('POST', '/api/auth/register', { body: { username, email, password } })
    if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`)
    return r.body as { id: string; username: string; email: string }
  }

  async function login(username: string, password = 'password-123') {
    const r = await call('POST', '/api/auth/login', { body: { username, password } })
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`)
    return r.body as { accessToken: string; refreshToken: string }
  }

  return {
    svc,
    bus,
    dir: tmp.dir,
    call,
    register,
    login,
    adminToken: async () => (await login(ADMIN.username, ADMIN.password)).accessToken,
    /** Events the service published on user.events, decoded. */
    events: () => events.got.map((d: Delivery) => decodeEvent(d.value)),
    /** Every log line the service wrote, parsed. */
    logLines: logs.lines,
    /** Every log line the service wrote, as written (to look for what must never be there). */
    logText: logs.text,
    /** The audit lines (admin actions and security events), in order. */
    audits: () => logs.lines().filter((l) => typeof l.audit === 'string'),
    /** The raw messages the service published on user.events (key, value, headers), as received. */
    deliveries: (): Delivery[] => [...events.got],
    async stop() {
      await events.stop()
      await svc.stop()
      if (!opts.bus) await bus.close()
      tmp.cleanup()
    },
  }
}

export type UserHarness = Awaited<ReturnType<typeof startUser>>

/** How many times each value occurs: `{ 401: 5, 429: 20 }` for the statuses of parallel requests. */
export function tally(values: number[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}
