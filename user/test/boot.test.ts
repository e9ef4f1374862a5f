import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ensureDevKeys, MemoryBus, roles, startService } from '@mart/shared'
import { capturedLogger, tempDir, waitFor } from '@mart/shared/testing'
import { definition } from '../src/index.ts'
import { ADMIN, startUser } from './support.ts'

let tmp: ReturnType<typeof tempDir>
const cleanups: (() => Promise<void> | void)[] = []
beforeEach(() => {
  tmp = tempDir('mart-user-boot-')
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  tmp.cleanup()
})

/** startUser on the test's directory, stopped after the test if still running. */
async function start(env: Record<string, string> = {}) {
  const h = await startUser(env, { dir: tmp.dir })
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await h.stop()
  }
  cleanups.push(stop)
  return { ...h, stop }
}

/** The service started with exactly `env` (no harness defaults), on its own memory bus. */
async function boot(env: Record<string, string>, logs = capturedLogger('user')) {
  const bus = new MemoryBus()
  cleanups.push(() => bus.close())
  const svc = await startService(definition, {
    env: {
      DATA_DIR: tmp.dir,
      PASSWORD_MEMORY_KIB: '1024',
      PASSWORD_TIME_COST: '1',
      SQLITE_CHECKPOINT_MS: '0',
      ...env,
    },
    bus,
    log: logs.log,
  })
  cleanups.push(() => svc.stop())
  return svc
}

/** A key pair generated elsewhere, as the env-style values production is given. */
async function productionKeys() {
  const keys = tempDir('mart-user-keys-')
  cleanups.push(() => keys.cleanup())
  const k = await ensureDevKeys(keys.dir)
  return { JWT_PRIVATE_KEY: k.privateKey, JWT_PUBLIC_KEYS: k.publicKeys }
}

describe('the seeded admin', () => {
  test('is seeded once: a second start on the same data neither seeds again nor fails', async () => {
    const first = await start()
    await waitFor(() => first.events().find((e) => e.type === 'user.registered'), 'the admin registered')
    const { refreshToken } = await first.login(ADMIN.username, ADMIN.password)
    await first.stop()

    const second = await start()
    const admin = await second.adminToken()
    const list = await second.call('GET', '/api/users', { token: admin })
    expect(list.status).toBe(200)
    expect(list.body.items.map((x: { username: string }) => x.username)).toEqual([ADMIN.username])
    // The session from before the restart is still the same account's.
    expect((await second.call('POST', '/api/auth/refresh', { body: { refreshToken } })).status).toBe(200)
    // Nothing new was announced: the next event is the next registration.
    const marker = await second.register('marker')
    await waitFor(() => second.events().find((e) => e.subject === marker.id), 'the marker registered')
    expect(second.events().map((e) => [e.type, (e.data as { username?: string }).username])).toEqual([
      ['user.registered', 'marker'],
    ])
  })

  test('a start with other ADMIN_* values once an admin exists creates no second admin', async () => {
    const first = await start()
    await first.stop()
    const second = await start({
      ADMIN_USERNAME: 'another-admin',
      ADMIN_EMAIL: 'another@mart.test',
      ADMIN_PASSWORD: 'another-password',
    })
    expect(
      (
        await second.call('POST', '/api/auth/login', {
          body: { username: 'another-admin', password: 'another-password' },
        })
      ).status,
    ).toBe(401)
    // The existing admin keeps its password: ADMIN_PASSWORD does not reset it.
    const list = await second.call('GET', '/api/users', { token: await second.adminToken() })
    expect(list.body.items.map((x: { username: string; role: string }) => [x.username, x.role])).toEqual([
      [ADMIN.username, 'admin'],
    ])
  })

  test('ADMIN_* set once an admin exists: a warning names the variables, never the password', async () => {
    const first = await start()
    expect(first.logLines().filter((l) => l.level === 40)).toEqual([])
    await first.stop()
    const second = await start()
    const warnings = second.logLines().filter((l) => l.level === 40)
    expect(warnings).toEqual([
      expect.objectContaining({ variables: ['ADMIN_USERNAME', 'ADMIN_EMAIL', 'ADMIN_PASSWORD'] }),
    ])
    expect(String(warnings[0]?.msg)).toContain('ignored')
    expect(second.logText()).not.toContain(ADMIN.password)
  })

  test('no ADMIN_* set once an admin exists: no warning; one set: that one is named', async () => {
    await (await start()).stop()
    const quiet = capturedLogger('user')
    await (await boot({ NODE_ENV: 'test' }, quiet)).stop()
    expect(quiet.lines().filter((l) => l.level === 40)).toEqual([])
    const one = capturedLogger('user')
    await boot({ NODE_ENV: 'test', ADMIN_EMAIL: 'other@mart.test' }, one)
    expect(one.lines().filter((l) => l.level === 40)).toEqual([
      expect.objectContaining({ variables: ['ADMIN_EMAIL'] }),
    ])
  })

  test('in development without ADMIN_PASSWORD the admin gets the printed development password', async () => {
    const svc = await boot({ NODE_ENV: 'development', ADMIN_USERNAME: 'devadmin' })
    const r = await svc.app.handle(
      new Request('http://user.mart.test/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'devadmin', password: 'mart-admin-dev' }),
      }),
    )
    expect(r.status).toBe(200)
  })
})

describe('production', () => {
  test('without ADMIN_PASSWORD on an empty database: the start fails naming ADMIN_PASSWORD', async () => {
    const keys = await productionKeys()
    await expect(boot({ NODE_ENV: 'production', ...keys })).rejects.toThrow(/ADMIN_PASSWORD/)
  })

  test('without ADMIN_PASSWORD once an admin exists: it starts, and the admin logs in', async () => {
    const keys = await productionKeys()
    await (await boot({ NODE_ENV: 'production', ADMIN_PASSWORD: ADMIN.password, ...keys })).stop()
    const svc = await boot({ NODE_ENV: 'production', ...keys })
    const r = await svc.app.handle(
      new Request('http://user.mart.test/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN.password }),
      }),
    )
    expect(r.status).toBe(200)
  })

  test('the device cookie is Secure', async () => {
    const svc = await boot({
      NODE_ENV: 'production',
      ADMIN_PASSWORD: ADMIN.password,
      ...(await productionKeys()),
    })
    const r = await svc.app.handle(
      new Request('http://user.mart.test/api/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: ADMIN.password }),
      }),
    )
    expect(r.status).toBe(200)
    expect(r.headers.getSetCookie()).toEqual([
      expect.stringMatching(
        /^mart_device=[\w-]{43}; Max-Age=2592000; Path=\/api\/auth; HttpOnly; Secure; SameSite=Strict$/,
      ),
    ])
  })

  test('without JWT keys: the start fails naming the keys, and no key is generated', async () => {
    const keys = await productionKeys()
    const env = { NODE_ENV: 'production', ADMIN_PASSWORD: ADMIN.password }
    await expect(boot(env)).rejects.toThrow(/JWT_PUBLIC_KEYS/)
    await expect(boot({ ...env, JWT_PUBLIC_KEYS: keys.JWT_PUBLIC_KEYS })).rejects.toThrow(/JWT_PRIVATE_KEY/)
    await expect(boot({ ...env, JWT_PRIVATE_KEY: keys.JWT_PRIVATE_KEY })).rejects.toThrow(/JWT_PUBLIC_KEYS/)
    expect(existsSync(join(tmp.dir, 'keys'))).toBe(false)
  })

  test('with public keys that do not hold the signing key: the start fails', async () => {
    const a = await productionKeys()
    const b = await productionKeys()
    await expect(
      boot({
        NODE_ENV: 'production',
        ADMIN_PASSWORD: ADMIN.password,
        JWT_PRIVATE_KEY: a.JWT_PRIVATE_KEY,
        JWT_PUBLIC_KEYS: b.JWT_PUBLIC_KEYS,
      }),
    ).rejects.toThrow(/JWT_PUBLIC_KEYS/)
  })
})

describe('development keys', () => {
  test('are generated once under <dir>/keys and reused: a token from before a restart is still accepted', async () => {
    const first = await start({ NODE_ENV: 'development' })
    const privFile = join(tmp.dir, 'keys', 'jwt-private.jwk.json')
    expect(existsSync(privFile)).toBe(true)
    expect(statSync(privFile).mode & 0o077).toBe(0)
    const before = readFileSync(privFile, 'utf8')
    const kid = (await first.call('GET', '/api/auth/jwks.json')).body.keys[0].kid
    await first.register('bob')
    const session = await first.login('bob')
    await first.stop()

    const second = await start({ NODE_ENV: 'development' })
    expect(readFileSync(privFile, 'utf8')).toBe(before)
    expect(
      (await second.call('GET', '/api/auth/jwks.json')).body.keys.map((k: { kid: string }) => k.kid),
    ).toEqual([kid])
    const me = await second.call('GET', '/api/users/me', { token: session.accessToken })
    expect(me.status).toBe(200)
    expect(me.body.username).toBe('bob')
    expect(
      (await second.call('POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } }))
        .status,
    ).toBe(200)
  })
})

describe('GET /docs/json', () => {
  test('lists every route, the password flow at /api/auth/token, and security on protected routes', async () => {
    const u = await start()
    const r = await u.call('GET', '/docs/json')
    expect(r.status).toBe(200)
    const spec = r.body as {
      paths: Record<string, Record<string, { security?: unknown[] }>>
      components: { securitySchemes: Record<string, { flows?: { password?: { tokenUrl: string } } }> }
    }
    const routes = Object.entries(spec.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    )
    expect(routes.sort()).toEqual(
      [
        'POST /api/auth/register',
        'POST /api/auth/login',
        'POST /api/auth/token',
        'POST /api/auth/refresh',
        'POST /api/auth/logout',
        'POST /api/auth/logout-all',
        'GET /api/auth/jwks.json',
        'GET /api/users/me',
        'PATCH /api/users/me',
        'GET /api/users',
        'GET /api/users/{id}',
        'PATCH /api/users/{id}',
        'DELETE /api/users/{id}',
      ].sort(),
    )
    expect(spec.components.securitySchemes.password?.flows?.password?.tokenUrl).toBe('/api/auth/token')
    for (const [path, method] of [
      ['/api/users/me', 'get'],
      ['/api/users/me', 'patch'],
      ['/api/users', 'get'],
      ['/api/users/{id}', 'delete'],
    ] as const) {
      expect(spec.paths[path]?.[method]?.security?.length ?? 0).toBeGreaterThan(0)
    }
    // Public routes ask for no token.
    expect(spec.paths['/api/auth/register']?.post?.security ?? []).toEqual([])
    expect(spec.paths['/api/auth/jwks.json']?.get?.security ?? []).toEqual([])
    expect(r.text).not.toContain('passwordHash')
  })
})

describe('CORS_ORIGINS', () => {
  test('a page on an allowed origin may log in and read the answer, a failed one included', async () => {
    const u = await start({ CORS_ORIGINS: 'https://shop.example.com' })
    const headers = { origin: 'https://shop.example.com' }
    const pre = await u.call('OPTIONS', '/api/auth/login', {
      headers: { ...headers, 'access-control-request-method': 'POST' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST')
    const ok = await u.call('POST', '/api/auth/login', {
      headers,
      body: { username: ADMIN.username, password: ADMIN.password },
    })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
    const refused = await u.call('POST', '/api/auth/login', {
      headers,
      body: { username: 'nobody', password: 'x' },
    })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://shop.example.com')
  })
})

describe('the users table', () => {
  test('takes exactly the roles tokens and events carry (a CHECK derived from the list)', async () => {
    const h = await start()
    const insert = h.svc.store.sqlite.prepare(
      "INSERT INTO users (id, username, email, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, 0, 0)",
    )
    for (const role of roles) expect(() => insert.run(role, role, `${role}@x.test`, role)).not.toThrow()
    expect(() => insert.run('r', 'r', 'r@x.test', 'root')).toThrow(/CHECK constraint failed: users_role/)
  })
})
