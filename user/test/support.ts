// The user service in the shared harness, with what only it needs: cheap password hashing, a seeded
// admin, and registering and logging in over HTTP.
import type { Bus, Logger } from '@mart/shared'
import { type HttpCall, startHarness } from '@mart/shared/testing'
import { definition } from '../src/index.ts'

export const ADMIN = { username: 'root', email: 'root@mart.test', password: 'root-password' }

export type Call = HttpCall

/** The environment user tests run with (the e2e marketplace too). */
export const userTestEnv: Record<string, string> = {
  // Cheap hashing for tests only: the default costs ~160 ms a hash.
  PASSWORD_MEMORY_KIB: '1024',
  PASSWORD_TIME_COST: '1',
  ADMIN_USERNAME: ADMIN.username,
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
}

export async function startUser(
  env: Record<string, string> = {},
  opts: {
    bus?: Bus
    dir?: string /** Instead of the captured one (benchmarks: a silent logger). */
    log?: Logger
  } = {},
) {
  const h = await startHarness(definition, {
    ...opts,
    env: {
      ...userTestEnv,
      // Suites register many users from one address; one test keeps the default (10 an hour).
      REGISTER_MAX_PER_ADDRESS: '1000',
      ...env,
    },
  })

  async function register(username: string, password = 'password-123', email = `${username}@example.com`) {
    const r = await h.call('POST', '/api/auth/register', { body: { username, email, password } })
    if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${r.text}`)
    return r.body as { id: string; username: string; email: string }
  }

  async function login(username: string, password = 'password-123') {
    const r = await h.call('POST', '/api/auth/login', { body: { username, password } })
    if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`)
    return r.body as { accessToken: string; refreshToken: string }
  }

  return {
    ...h,
    register,
    login,
    adminToken: async () => (await login(ADMIN.username, ADMIN.password)).accessToken,
  }
}

export type UserHarness = Awaited<ReturnType<typeof startUser>>

/** How many times each value occurs: `{ 401: 5, 429: 20 }` for the statuses of parallel requests. */
export function tally(values: number[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}
