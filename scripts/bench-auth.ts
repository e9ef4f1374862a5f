// `bun run bench:auth`: what authentication costs.
//   --mode tokens (default): GET /api/users/me through the user service's app (in process, no
//     network; the token is verified by the cached verifier), and the verifier alone, cached and
//     uncached (an EdDSA signature check every time).
//   --mode register-flood: 64 parallel registrations at the default argon2id cost (the
//     registration limit raised for the run) while a login arrives every 250 ms; prints the
//     login latency alone and under the flood (p50/max), and what the registrations got.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadPublicKeys, sleep, TokenVerifier } from '@mart/shared'
import { testLogger } from '@mart/shared/testing'
import { ADMIN, startUser, tally } from '../user/test/support.ts'
import { inUnit, machineLine, percentiles } from './bench/stats.ts'

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'tokens' },
    requests: { type: 'string', default: '5000' },
    registrations: { type: 'string', default: '64' },
  },
})
console.log(`\n${machineLine()}\n`)
if (values.mode === 'tokens') await tokens(Number(values.requests))
else if (values.mode === 'register-flood') await registerFlood(Number(values.registrations))
else throw new Error(`unknown --mode ${values.mode} (tokens, register-flood)`)

async function tokens(n: number) {
  // Silent, as before: the figures compare with earlier runs.
  const u = await startUser({}, { log: testLogger('user') })
  const { accessToken } = await u.login(ADMIN.username, ADMIN.password)
  const keys = await loadPublicKeys(`@${join(u.dir, 'keys', 'jwt-public.jwks.json')}`)
  const verifier = (cacheSize: number) =>
    new TokenVerifier({ keys, issuer: 'mart', audience: 'mart', cacheSize })

  async function time(label: string, run: () => Promise<unknown>) {
    for (let i = 0; i < 200; i++) await run() // warm-up
    const lat: number[] = []
    for (let i = 0; i < n; i++) {
      const t = performance.now()
      await run()
      lat.push(performance.now() - t)
    }
    const { p50, p99 } = percentiles(lat)
    console.log(`| ${label} | ${n} | ${inUnit(p50, 'µs')} | ${inUnit(p99, 'µs')} |`)
  }

  console.log('| what | runs | p50 µs | p99 µs |\n| --- | ---: | ---: | ---: |')
  const me = () => u.call('GET', '/api/users/me', { token: accessToken })
  // A fast refusal would time nothing worth knowing.
  const first = await me()
  if (first.status !== 200) throw new Error(`GET /api/users/me: ${first.status} ${first.text}`)
  await time('GET /api/users/me (whole request, token cached)', me)
  const cached = verifier(10_000)
  await time('verify, cached', () => cached.verify(accessToken))
  const uncached = verifier(0)
  await time('verify, uncached (EdDSA check)', () => uncached.verify(accessToken))
  await u.stop()
}

async function registerFlood(n: number) {
  const u = await startUser(
    {
      // The service's own argon2id cost, not the cheap one tests use.
      PASSWORD_MEMORY_KIB: '',
      PASSWORD_TIME_COST: '',
      REGISTER_MAX_PER_ADDRESS: String(n * 10),
      // Attempts count until their password is checked: the logins in flight during the flood
      // would otherwise hit the per-account and per-address limits this run is not about.
      LOGIN_MAX_PER_ADDRESS: '1000000',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
    },
    { log: testLogger('user') },
  )
  const login = async () => {
    const t = performance.now()
    const r = await u.call('POST', '/api/auth/login', {
      body: { username: ADMIN.username, password: ADMIN.password },
    })
    if (r.status !== 200) throw new Error(`login: ${r.status} ${r.text}`)
    return (performance.now() - t) / 1000
  }
  const summary = (label: string, lat: number[]) => {
    const { count, p50, max } = percentiles(lat)
    console.log(`| ${label} | ${count} | ${p50.toFixed(3)} | ${max.toFixed(3)} |`)
  }

  const alone: number[] = []
  for (let i = 0; i < 10; i++) alone.push(await login())

  const started = performance.now()
  let settled = false
  const flood = Promise.all(
    Array.from({ length: n }, (_, i) =>
      u.call('POST', '/api/auth/register', {
        body: { username: `flood-${i}`, email: `flood-${i}@example.com`, password: 'flood-password' },
      }),
    ),
  ).finally(() => {
    settled = true
  })
  // A login arrives every 250 ms while the flood lasts, each on its own (not after the last one).
  const logins: Promise<number>[] = []
  while (!settled) {
    logins.push(login())
    await sleep(250)
  }
  const answers = await flood
  const underFlood = await Promise.all(logins)
  const floodSeconds = (performance.now() - started) / 1000

  console.log('| login | runs | p50 s | max s |\n| --- | ---: | ---: | ---: |')
  summary('alone', alone)
  summary(`during ${n} parallel registrations`, underFlood)
  console.log(
    `\nregistrations: ${JSON.stringify(tally(answers.map((r) => r.status)))} in ${floodSeconds.toFixed(1)} s`,
  )
  await u.stop()
}
