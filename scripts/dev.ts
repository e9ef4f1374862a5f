// `bun run dev`: the marketplace on this machine.
// - Embedded (default): every service in this process, the in-process bus, SQLite under ./data,
//   one listener on :8000 routing /api/... like the gateway. No Docker, no Java.
// - Distributed (KAFKA_BROKERS set): each service as its own process on its own port, on Kafka.
import { GATEWAY_PORT, services, startEmbedded } from '@mart/shared'
import { entryOf, loadDefinitions, presentServices, root } from './services.ts'

const names = presentServices()

if (process.env.KAFKA_BROKERS) {
  const children = names.map((name) =>
    Bun.spawn(['bun', entryOf(name)], {
      cwd: root,
      env: { ...process.env, PORT: process.env[`${name.toUpperCase()}_PORT`] ?? String(services[name].port) },
      stdout: 'inherit',
      stderr: 'inherit',
    }),
  )
  console.log(
    `mart: ${names.length} service(s) on Kafka ${process.env.KAFKA_BROKERS}\n` +
      names.map((n) => `  ${n.padEnd(13)} http://127.0.0.1:${services[n].port}/docs`).join('\n'),
  )
  const stop = () => {
    for (const c of children) c.kill('SIGTERM')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  const codes = await Promise.all(children.map((c) => c.exited))
  process.exit(codes.some((c) => c !== 0) ? 1 : 0)
} else {
  const mart = await startEmbedded(await loadDefinitions(), {
    port: Number(process.env.PORT ?? GATEWAY_PORT),
  }).catch((err: unknown) => {
    // A bad setting (or a missing production secret) is a message for the operator, not a stack.
    console.error(`mart failed to start: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
  console.log(
    `mart: embedded mode on ${mart.url} (in-process bus, SQLite in ${process.env.DATA_DIR ?? './data'})\n` +
      (names.length
        ? names.map((n) => `  ${n.padEnd(13)} ${mart.url}/api/${n}/docs`).join('\n')
        : '  no service has landed yet: /health and /ready answer'),
  )
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await mart.stop()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop())
  process.on('SIGTERM', () => void stop())
}
