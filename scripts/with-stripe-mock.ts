// Finds or starts the stripe-mock that tests run the Stripe SDK against.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePortPair, inUse } from './ports.ts'
import { root } from './services.ts'

type Env = Record<string, string | undefined>

const launcher = (action: string, env: Env, quiet = false) =>
  Bun.spawnSync(['bash', 'scripts/stripe-mock.sh', action], {
    cwd: root,
    env,
    stdout: quiet ? 'ignore' : 'inherit',
    stderr: quiet ? 'ignore' : 'inherit',
  }).exitCode

export interface StripeMockHandle {
  url: string | null
  /** Why there is no stripe-mock, when there is none. */
  missing?: string
  /** The STRIPE_MOCK_HOME_DIR of a stripe-mock started for this run alone (its log is there). */
  home?: string
  /** Stops stripe-mock if this process started it. */
  release(): void
}

/**
 * STRIPE_MOCK_URL when set; otherwise a stripe-mock from scripts/stripe-mock.sh when Go is there to
 * build it (or it is built already): the one `bash scripts/stripe-mock.sh start` runs is reused and
 * left running; else one is started on STRIPE_MOCK_PORT (12111) and stopped by `release`. When that
 * port or its HTTPS neighbour (STRIPE_MOCK_PORT+1) is held by another process, it is started on free
 * ports in a STRIPE_MOCK_HOME_DIR of its own instead, and removed by `release`. Throws when the
 * launcher fails.
 */
export function withStripeMock(env: Env = process.env): StripeMockHandle {
  if (env.STRIPE_MOCK_URL) return { url: env.STRIPE_MOCK_URL, release() {} }
  if (env.MART_SKIP_STRIPE_MOCK === '1')
    return { url: null, missing: 'MART_SKIP_STRIPE_MOCK=1', release() {} }
  if (!Bun.which('go', { PATH: env.PATH }) && launcher('path', env, true) !== 0) {
    return { url: null, missing: 'no Go to build stripe-mock, STRIPE_MOCK_URL unset', release() {} }
  }
  const port = Number(env.STRIPE_MOCK_PORT ?? 12111)
  const url = (p: number | string) => `http://127.0.0.1:${p}`
  if (launcher('status', env, true) === 0) return { url: url(port), release() {} }
  const taken = [port, port + 1].filter((p) => Number.isInteger(p) && inUse(p))
  if (taken.length === 0) {
    if (launcher('start', env) !== 0)
      throw new Error('could not start stripe-mock with scripts/stripe-mock.sh (see above)')
    return { url: url(port), release: () => void launcher('stop', env) }
  }

  const home = mkdtempSync(join(tmpdir(), 'mart-stripe-mock-'))
  const own = {
    ...env,
    STRIPE_MOCK_PORT: String(freePortPair('stripe-mock (HTTP and HTTPS)')),
    STRIPE_MOCK_HOME_DIR: home,
  }
  console.warn(
    `with-stripe-mock: 127.0.0.1:${taken.join(' and ')} ${taken.length > 1 ? 'are' : 'is'} in use by another ` +
      `process, not a stripe-mock of this checkout; starting one for this run on ${url(own.STRIPE_MOCK_PORT)} ` +
      '(to use a stripe-mock that is already running, set STRIPE_MOCK_URL=http://host:port)',
  )
  const release = () => {
    launcher('stop', own, true)
    rmSync(home, { recursive: true, force: true })
  }
  if (launcher('start', own) !== 0) {
    release()
    throw new Error('could not start stripe-mock with scripts/stripe-mock.sh on free ports (see above)')
  }
  return { url: url(own.STRIPE_MOCK_PORT), home, release }
}
