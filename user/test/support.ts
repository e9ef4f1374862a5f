// Starts the user service the way it runs (real SQLite file, real bus) and talks to it over HTTP.
import {
  type Bus,
  type Delivery,
  decodeEvent,
  MemoryBus,
  type RunningService,
  startService,
} from '@mart/shared'
import { collect, tempDir, testLogger } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export const ADMIN = { username: 'root', email: 'root@mart.test', password: 'root-password' }

export interface Call {
  body?: unknown
  form?: Record<string, string>
  token?: string
  headers?: Record<string, string>
}

export async function startUser(env: Record<string, string> = {}, opts: { bus?: Bus; dir?: string } = {}) {
  const tmp = opts.dir ? { dir: opts.dir, cleanup() {} } : tempDir('mart-user-')
  const bus = opts.bus ?? new MemoryBus()
  if (!opts.bus) await bus.ensureTopics(['user.events'])
  const events = await collect(bus, `observer-${crypto.randomUUID()}`, ['user.events'])
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
      ...env,
    },
    bus,
    log: testLogger('user'),
  })

  async function call(method: string, path: string, c: Call = {}) {
    const headers: Record<string, string> = { ...c.headers }
    let body: string | undefined
    if (c.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(c.form).toString()
    } else if (c.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(c.body)
    }
    if (c.token) headers.authorization = `Bearer ${c.token}`
    const res = await svc.app.handle(new Request(`http://user.mart.test${path}`, { method, headers, body }))
    const text = await res.text()
    return {
      status: res.status,
      headers: res.headers,
      // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
      body: (text ? JSON.parse(text) : undefined) as Record<string, any>,
      text,
    }
  }

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
