// `bun run test` finds or starts its stripe-mock (scripts/with-stripe-mock.ts). With its ports taken
// by something that is not our stripe-mock, it starts one of its own on free ports instead of giving up.
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { tempDir } from '@mart/shared/testing'
import { holdFreePort, inUse } from '../ports.ts'
import { root } from '../services.ts'
import { withStripeMock } from '../with-stripe-mock.ts'

// Go builds it on first use; a machine that built it before needs no Go.
const canRun =
  Boolean(Bun.which('go')) ||
  Bun.spawnSync(['bash', 'scripts/stripe-mock.sh', 'path'], { cwd: root, stdout: 'ignore' }).exitCode === 0
if (!canRun && process.env.CI !== 'true')
  console.warn('\n!!! SKIPPED (no Go): the stripe-mock launcher tests\n')

describe.skipIf(!canRun && process.env.CI !== 'true')('the stripe-mock of bun run test', () => {
  for (const [what, portFor] of [
    ['its HTTP port', (taken: number) => taken],
    ['its HTTPS port', (taken: number) => taken - 1],
  ] as const) {
    test(`with ${what} taken by another process, it runs one of its own on free ports and stops it after`, async () => {
      const other = holdFreePort()
      // The home `bash scripts/stripe-mock.sh start` would use: no stripe-mock of ours runs there.
      const home = tempDir('mart-stripe-mock-home-')
      const mockPort = portFor(other.port)
      try {
        const mock = withStripeMock({
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          STRIPE_MOCK_PORT: String(mockPort),
          STRIPE_MOCK_HOME_DIR: home.dir,
        })
        const url = mock.url as string
        let ownHome: string | undefined
        try {
          expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
          expect(url).not.toBe(`http://127.0.0.1:${mockPort}`)
          ownHome = mock.home
          expect(ownHome).toBeDefined()
          expect(ownHome).not.toBe(home.dir)
          // stripe-mock itself answers there.
          const res = await fetch(`${url}/v1/customers`, { headers: { authorization: 'Bearer sk_test_123' } })
          expect(res.status).toBe(200)
          expect(res.headers.get('stripe-mock-version')).not.toBeNull()
        } finally {
          mock.release()
        }
        // Stopped and cleaned up; the other process and the usual home untouched.
        expect(inUse(Number(new URL(url).port))).toBe(false)
        expect(existsSync(ownHome as string)).toBe(false)
        expect(inUse(other.port)).toBe(true)
        expect(existsSync(`${home.dir}/stripe-mock.pid`)).toBe(false)
      } finally {
        other.stop(true)
        home.cleanup()
      }
    }, 120_000)
  }

  test('an address that is already set is used as it is, and release leaves it alone', () => {
    const mock = withStripeMock({ STRIPE_MOCK_URL: 'http://127.0.0.1:1' })
    expect(mock.url).toBe('http://127.0.0.1:1')
    mock.release()
  })
})
