// `bun run dev`: the marketplace on this machine.
// - Embedded (default): every service in this process, the in-process bus, SQLite under ./data,
//   one listener on :8000 (PORT) routing /api/... like the gateway. No Docker, no Java.
// - Distributed (KAFKA_BROKERS, or the original's KAFKA_BOOTSTRAP_SERVERS, set): each service as its own process on its own port
//   (<SERVICE>_PORT, 8001-8006), on Kafka, and Caddy in front on :8000 (GATEWAY_PORT) when it is on PATH.
import { BaseConfig, ConfigError, checkServiceConfigs, runEmbedded, services, settingOf } from '@mart/shared'
import { caddyBinary, INSTALL_HINT, type RunningCaddy, startCaddy } from './caddy.ts'
import { entryOf, loadDefinitions, root } from './services.ts'

const defs = await loadDefinitions()

if (settingOf(process.env, 'KAFKA_BROKERS')) {
  const env: Record<string, string | undefined> = {
    ...process.env,
    KAFKA_BROKERS: settingOf(process.env, 'KAFKA_BROKERS'),
  }
  const ports = defs.map((def) => {
    const variable = `${def.name.toUpperCase()}_PORT`
    return { def, variable, port: env[variable] ?? String(services[def.name as keyof typeof services].port) }
  })
  // Every service's settings, checked here: one message for all of them, before any process starts.
  try {
    checkServiceConfigs(
      'mart',
      { schema: BaseConfig, env },
      ports.map(({ def, variable, port }) => ({
        service: def.name,
        schema: def.config,
        env: { ...env, PORT: port },
        readFrom: { PORT: variable },
      })),
    )
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(err.message)
    process.exit(1)
  }
  const withCaddy = Boolean(caddyBinary(env))
  if (!withCaddy) console.warn(`mart: no gateway: ${INSTALL_HINT}; running the services alone`)
  const children = ports.map(({ def, port }) =>
    Bun.spawn(['bun', entryOf(def.name as keyof typeof services)], {
      cwd: root,
      // Caddy sets X-Forwarded-For to the client's address: behind it, the services may trust it.
      env: { ...env, PORT: port, ...(withCaddy ? { TRUST_PROXY: 'true' } : {}) },
      stdout: 'inherit',
      stderr: 'inherit',
    }),
  )
  let caddy: RunningCaddy | null = null
  if (withCaddy) {
    try {
      caddy = await startCaddy({
        env,
        upstreams: Object.fromEntries(ports.map(({ def, port }) => [def.name, `127.0.0.1:${port}`])),
      })
    } catch (err) {
      console.error(
        `mart: the gateway did not start (${err instanceof Error ? err.message : err}); the services run alone`,
      )
    }
  }
  console.log(
    `mart: ${defs.length} service(s) on Kafka ${env.KAFKA_BROKERS}\n` +
      (caddy ? `  gateway       ${caddy.url} (docs index ${caddy.url}/docs)\n` : '') +
      ports
        .map(({ def, port }) =>
          caddy
            ? `  ${def.name.padEnd(13)} ${caddy.url}/api/${def.name}/docs (direct: http://127.0.0.1:${port})`
            : `  ${def.name.padEnd(13)} http://127.0.0.1:${port}/docs`,
        )
        .join('\n'),
  )
  const stop = () => {
    for (const c of children) c.kill('SIGTERM')
    void caddy?.stop()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const codes = await Promise.all([...children.map((c) => c.exited), caddy?.process.exited ?? 0])
  process.exit(codes.some((c) => c !== 0) ? 1 : 0)
} else {
  const mart = await runEmbedded(defs)
  console.log(
    `mart: embedded mode on ${mart.url} (in-process bus, SQLite in ${mart.config.DATA_DIR})\n` +
      (defs.length
        ? defs.map((d) => `  ${d.name.padEnd(13)} ${mart.url}/api/${d.name}/docs`).join('\n')
        : '  no service has landed yet: /health and /ready answer'),
  )
}
