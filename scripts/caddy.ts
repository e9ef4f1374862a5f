// Runs the root Caddyfile as the current user: `bun scripts/caddy.ts` (validates, then runs in the
// foreground). `bun run dev` in the distributed mode and the gateway tests start it through startCaddy.
import { mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { caddyfilePath } from './caddyfile.ts'
import { inUse } from './ports.ts'
import { root } from './services.ts'

type Env = Record<string, string | undefined>

export const INSTALL_HINT =
  'caddy is not on PATH: install it with `apt-get install --no-install-recommends caddy` (Debian/Ubuntu) ' +
  'or see https://caddyserver.com/docs/install'

/** The caddy binary on PATH, or null. */
export const caddyBinary = (env: Env = process.env): string | null => Bun.which('caddy', { PATH: env.PATH })

/**
 * Caddy's own files (autosave.json, certificates it never needs here) go under .cache/caddy, not the
 * user's home: Debian's 2.6 cannot be told not to autosave, and the home may not be writable.
 */
function caddyEnv(env: Env): Env {
  const home = join(root, '.cache', 'caddy')
  const data = join(home, 'data')
  const config = join(home, 'config')
  mkdirSync(data, { recursive: true })
  mkdirSync(config, { recursive: true })
  return { ...env, XDG_DATA_HOME: data, XDG_CONFIG_HOME: config }
}

const args = (command: string) => [command, '--config', caddyfilePath, '--adapter', 'caddyfile']

/** `caddy validate`; throws with Caddy's own words when the Caddyfile does not load. */
export function validateCaddyfile(env: Env = process.env): void {
  const caddy = caddyBinary(env)
  if (!caddy) throw new Error(INSTALL_HINT)
  const result = Bun.spawnSync([caddy, ...args('validate')], {
    env: caddyEnv(env),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (result.exitCode !== 0) {
    const said = `${result.stdout.toString()}${result.stderr.toString()}`
      .trim()
      .split('\n')
      .slice(-3)
      .join('\n')
    throw new Error(`the Caddyfile does not validate:\n${said}`)
  }
}

export interface CaddyOptions {
  env?: Env
  host?: string
  port?: number
  /** host:port per service, over the Caddyfile's defaults (PRODUCT_UPSTREAM=...). */
  upstreams?: Partial<Record<string, string>>
  /** Where Caddy's JSON log lines (access log included) go: a file, or this process's stderr. */
  logFile?: string
}

export interface RunningCaddy {
  url: string
  process: Bun.Subprocess
  stop(): Promise<void>
}

/**
 * Validates and starts Caddy on the Caddyfile, and waits until it answers /health. Refuses a port
 * something already holds: a leftover Caddy of the same user would share it silently (SO_REUSEPORT).
 */
export async function startCaddy(opts: CaddyOptions = {}): Promise<RunningCaddy> {
  const base = opts.env ?? process.env
  const host = opts.host ?? base.GATEWAY_HOST ?? '127.0.0.1'
  const port = opts.port ?? Number(base.GATEWAY_PORT ?? 8000)
  const env: Env = { ...caddyEnv(base), GATEWAY_HOST: host, GATEWAY_PORT: String(port) }
  for (const [service, upstream] of Object.entries(opts.upstreams ?? {}))
    env[`${service.toUpperCase()}_UPSTREAM`] = upstream
  validateCaddyfile(env)
  if (inUse(port))
    throw new Error(`port ${port} is in use: is another gateway (or a leftover caddy) running?`)
  const caddy = caddyBinary(env) as string
  const proc = Bun.spawn([caddy, ...args('run')], {
    env,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: opts.logFile ? openSync(opts.logFile, 'a') : 'inherit',
  })
  const url = `http://${host}:${port}`
  const stop = async () => {
    proc.kill('SIGTERM')
    await proc.exited
  }
  for (let attempt = 0; ; attempt++) {
    if (proc.exitCode !== null) throw new Error(`caddy exited with code ${proc.exitCode} while starting`)
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, process: proc, stop }
    } catch {
      // not listening yet
    }
    if (attempt >= 100) {
      await stop()
      throw new Error(`caddy did not answer ${url}/health`)
    }
    await Bun.sleep(50)
  }
}

if (import.meta.main) {
  if (!caddyBinary()) {
    console.error(INSTALL_HINT)
    process.exit(1)
  }
  try {
    const caddy = await startCaddy()
    console.log(`gateway: ${caddy.url} (docs index ${caddy.url}/docs)`)
    const stop = () => void caddy.stop()
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    process.exit((await caddy.process.exited) === 0 ? 0 : 1)
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err))
    process.exit(1)
  }
}
