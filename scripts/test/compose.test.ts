// compose.yaml, the Dockerfile and .env.example: no container engine runs them here, so what can be
// checked without one is: the Compose Specification's loader accepts the file (and rejects a broken
// one), the six services are wired the way the rest of the repository says (ports, entry points,
// healthchecks, volumes), and every setting they get is one their configuration reads and accepts.
import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GATEWAY_PORT, loadConfig, serviceNames, services } from '@mart/shared'
import { describeStripeMock, tempDir } from '@mart/shared/testing'
import { entryOf, loadDefinitions, root } from '../services.ts'

interface Service {
  build?: string
  command?: string[]
  environment?: Record<string, string>
  env_file?: { path: string; required?: boolean }[]
  expose?: string[]
  ports?: string[]
  volumes?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
}
interface Compose {
  services: Record<string, Service>
  volumes: Record<string, unknown>
}

const composeText = readFileSync(join(root, 'compose.yaml'), 'utf8')
const compose = Bun.YAML.parse(composeText) as Compose
const envExample = Object.fromEntries(
  readFileSync(join(root, '.env.example'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.trimStart().startsWith('#'))
    .map((l) => {
      const at = l.indexOf('=')
      return [l.slice(0, at), l.slice(at + 1)]
    }),
)

/** Runs the validator (scripts/compose-check.sh; Go builds it on first use). */
function check(...args: string[]) {
  const run = Bun.spawnSync(['bash', 'scripts/compose-check.sh', ...args], { cwd: root })
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() }
}

// A machine that built the validator before needs no Go; CI must run it.
const canValidate =
  Boolean(Bun.which('go')) ||
  Bun.spawnSync(['bash', 'scripts/compose-check.sh', 'path'], { cwd: root, stdout: 'ignore' }).exitCode === 0
if (!canValidate && process.env.CI !== 'true')
  console.warn('\n!!! SKIPPED (no Go to build scripts/compose-check): the compose.yaml validation tests\n')

describe.skipIf(!canValidate && process.env.CI !== 'true')(
  'the compose-spec loader (scripts/compose-check.sh)',
  () => {
    // The first run builds the validator: seconds, once per machine.
    const BUILD_MS = 180_000

    test(
      'accepts compose.yaml',
      () => {
        const { code, stdout, stderr } = check()
        expect(code, stderr).toBe(0)
        expect(stdout).toStartWith('valid: mart (11 services)')
      },
      BUILD_MS,
    )

    test(
      'rejects a copy that depends on a service nobody defines',
      () => {
        const broken = composeText.replace(
          '    depends_on:\n      redpanda:\n        condition: service_healthy\n',
          '    depends_on:\n      redpanda:\n        condition: service_healthy\n      kafka:\n        condition: service_healthy\n',
        )
        expect(broken).not.toBe(composeText)
        const tmp = tempDir('mart-compose-')
        try {
          writeFileSync(join(tmp.dir, 'compose.yaml'), broken)
          // The copy's env_file is found beside it, as it is beside the original.
          copyFileSync(join(root, '.env.example'), join(tmp.dir, '.env.example'))
          const { code, stderr } = check('-f', join(tmp.dir, 'compose.yaml'))
          expect(code).toBe(1)
          expect(stderr).toContain('depends on undefined service "kafka"')
        } finally {
          tmp.cleanup()
        }
      },
      BUILD_MS,
    )
  },
)

describe('compose.yaml', () => {
  test('runs each of the six services from the one Dockerfile, on its port from shared/src/gateway.ts', () => {
    for (const name of serviceNames) {
      const service = compose.services[name]
      expect(service, name).toBeDefined()
      expect(service?.build).toBe('.')
      expect(service?.command).toEqual(['bun', `${name}/src/index.ts`])
      expect(existsSync(entryOf(name)), name).toBe(true)
      const port = String(services[name].port)
      expect(service?.environment?.PORT).toBe(port)
      expect(service?.expose).toEqual([port])
    }
  })

  test('checks each service on /ready, and starts what depends on another once it is healthy', () => {
    for (const name of serviceNames) {
      const probe = compose.services[name]?.healthcheck?.test ?? []
      expect(probe.slice(0, 3)).toEqual(['CMD', 'bun', '-e'])
      expect(probe[3]).toContain("'/ready'")
      expect(probe[3]).toContain('process.env.PORT')
    }
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [on, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(compose.services[on], `${name} depends on ${on}`).toBeDefined()
        // stripe-mock's image has nothing to probe it with.
        expect(condition, `${name} on ${on}`).toBe(
          on === 'stripe-mock' ? 'service_started' : 'service_healthy',
        )
      }
    }
    expect(Object.keys(compose.services.gateway?.depends_on ?? {}).sort()).toEqual([...serviceNames].sort())
  })

  test("points the gateway's Caddyfile at the six services in the compose network", () => {
    const gateway = compose.services.gateway
    expect(gateway?.volumes).toContain('./Caddyfile:/etc/caddy/Caddyfile:ro')
    expect(gateway?.environment).toMatchObject({
      GATEWAY_HOST: '0.0.0.0',
      GATEWAY_PORT: String(GATEWAY_PORT),
    })
    for (const name of serviceNames)
      expect(gateway?.environment?.[`${name.toUpperCase()}_UPSTREAM`]).toBe(`${name}:${services[name].port}`)
  })

  // The Caddyfile comes from its own branch; once it is here, it must read what compose.yaml sets.
  test.skipIf(!existsSync(join(root, 'Caddyfile')))('sets the variables the Caddyfile reads', () => {
    const caddyfile = readFileSync(join(root, 'Caddyfile'), 'utf8')
    for (const variable of Object.keys(compose.services.gateway?.environment ?? {}).filter(
      (v) => !v.startsWith('XDG_'),
    ))
      expect(caddyfile).toContain(`{$${variable}:`)
  })

  test('gives each service a named volume of its own for its data directory', () => {
    for (const name of serviceNames) {
      const volume = `${name}-data`
      expect(compose.services[name]?.volumes).toContain(`${volume}:/data`)
      expect(compose.volumes).toHaveProperty(volume)
    }
  })

  test('publishes the gateway, Redpanda Console and Mailpit on their ports (DESIGN.md "Ports")', () => {
    expect(compose.services.gateway?.ports).toContain(`${GATEWAY_PORT}:${GATEWAY_PORT}`)
    expect(compose.services.console?.ports).toContain('8080:8080')
    expect(compose.services.mailpit?.ports).toEqual(expect.arrayContaining(['8025:8025', '1025:1025']))
    // The services themselves only through the gateway: they trust its X-Forwarded-For.
    for (const name of serviceNames) expect(compose.services[name]?.ports, name).toBeUndefined()
  })

  test('gives every service .env.example, and each accepts its settings', async () => {
    const defs = await loadDefinitions()
    expect(defs.map((d) => d.name).sort()).toEqual([...serviceNames].sort())
    const read = new Set<string>()
    for (const def of defs) {
      const service = compose.services[def.name]
      expect(service?.env_file?.[0]).toEqual({ path: '.env.example' })
      const env = { ...envExample, ...service?.environment }
      expect(() => loadConfig(def.name, def.config, env)).not.toThrow()
      for (const key of Object.keys(def.config.properties)) read.add(key)
    }
    // A misspelt variable would be ignored without a word.
    expect(Object.keys(envExample).filter((key) => !read.has(key))).toEqual([])
    expect(envExample).toMatchObject({
      HOST: '0.0.0.0',
      KAFKA_BROKERS: 'redpanda:9092',
      SMTP_SERVER: 'mailpit',
      SMTP_PORT: '1025',
      SMTP_TLS: 'none',
      STRIPE_API_URL: 'http://stripe-mock:12111',
      TRUST_PROXY: 'true',
    })
  })
})

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')

  test("copies every workspace's package.json before the frozen install, and every service's sources", () => {
    const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      workspaces: string[]
    }
    for (const w of workspaces) expect(dockerfile).toContain(`COPY ${w}/package.json ${w}/\n`)
    expect(dockerfile).toContain('RUN bun install --frozen-lockfile --production\n')
    for (const name of ['shared', ...serviceNames]) expect(dockerfile).toContain(`COPY ${name} ./${name}\n`)
  })

  test("runs on the Bun that package.json pins, as the image's unprivileged user", () => {
    const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      packageManager: string
    }
    expect(dockerfile).toContain(`ARG BUN_IMAGE=oven/bun:${packageManager.replace('bun@', '')}-slim\n`)
    expect(dockerfile).toMatch(/\nUSER bun\n/)
  })
})

describeStripeMock('.env.example against stripe-mock', (url) => {
  test('its STRIPE_SECRET_KEY is one stripe-mock accepts (it refuses a key not shaped like a test key)', async () => {
    const res = await fetch(`${url}/v1/customers`, {
      headers: { authorization: `Bearer ${envExample.STRIPE_SECRET_KEY}` },
    })
    expect(res.status).toBe(200)
  })
})
