// `bun run bench:auth`: what token verification costs a request. Times GET /api/users/me through
// the user service's app (in process, no network; the token is verified by the cached verifier),
// and the verifier alone, cached and uncached (an EdDSA signature check every time).
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadPublicKeys, TokenVerifier } from '@mart/shared'
import { ADMIN, startUser } from '../user/test/support.ts'

const { values } = parseArgs({ options: { requests: { type: 'string', default: '5000' } } })
const n = Number(values.requests)
const u = await startUser()
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
  lat.sort((a, b) => a - b)
  const q = (p: number) => ((lat[Math.floor(lat.length * p)] ?? Number.NaN) * 1000).toFixed(1)
  console.log(`| ${label} | ${n} | ${q(0.5)} | ${q(0.99)} |`)
}

console.log(`\nmachine: ${navigator.hardwareConcurrency} cores, bun ${Bun.version}\n`)
console.log('| what | runs | p50 µs | p99 µs |\n| --- | ---: | ---: | ---: |')
await time('GET /api/users/me (whole request, token cached)', () =>
  u.call('GET', '/api/users/me', { token: accessToken }),
)
const cached = verifier(10_000)
await time('verify, cached', () => cached.verify(accessToken))
const uncached = verifier(0)
await time('verify, uncached (EdDSA check)', () => uncached.verify(accessToken))
await u.stop()
