// `bun run test`: the whole suite. Kafka-backed suites run against a real broker: the one in
// KAFKA_BROKERS, or one this script starts from Maven Central jars (scripts/kafka.sh) when Java and
// Maven are there. Without them those suites are skipped, and this says so loudly (in CI they fail).
import { readFileSync } from 'node:fs'
import { Glob } from 'bun'
import { root } from './services.ts'
import { type KafkaHandle, withKafka } from './with-kafka.ts'

const args = process.argv.slice(2)
const ci = process.env.CI === 'true'
const env: Record<string, string | undefined> = { ...process.env }

let kafka: KafkaHandle
try {
  kafka = withKafka(env)
} catch (err) {
  console.error(`\n!!! ${(err as Error).message}. Fix it, or run with MART_SKIP_KAFKA=1.\n`)
  process.exit(1)
}
if (kafka.brokers) env.KAFKA_BROKERS = kafka.brokers

/** Test files with a describeKafka block: what is skipped without a broker. */
const kafkaSuites = () =>
  [...new Glob('*/test/**/*.test.ts').scanSync({ cwd: root })]
    .filter((f) => readFileSync(`${root}/${f}`, 'utf8').includes('describeKafka('))
    .sort()

const banner = (lines: string[]) =>
  `\n${'!'.repeat(72)}\n${lines.map((l) => `!!! ${l}`).join('\n')}\n${'!'.repeat(72)}\n`
if (!kafka.brokers) {
  console.warn(
    banner([
      `Kafka-backed suites ${ci ? 'WILL FAIL (CI=true)' : 'SKIPPED'}: ${kafka.missing}`,
      ...kafkaSuites().map((f) => `  ${f}`),
    ]),
  )
}

const test = Bun.spawn(['bun', 'test', '--timeout', '60000', ...args], {
  cwd: root,
  env,
  stdout: 'inherit',
  stderr: 'inherit',
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => test.kill(signal))
const code = await test.exited
kafka.release()
process.exit(code)
