// `bun run test`: the whole suite. Kafka-backed suites run against a real broker: the one in
// KAFKA_BROKERS, or one this script starts from Maven Central jars (scripts/kafka.sh) when Java and
// Maven are there. Without them those suites are skipped, and this says so loudly (in CI they fail).
import { readFileSync } from 'node:fs'
import { Glob } from 'bun'
import { root } from './services.ts'

const args = process.argv.slice(2)
const ci = process.env.CI === 'true'
const env: Record<string, string | undefined> = { ...process.env }
let startedKafka = false

const has = (cmd: string) => Bun.which(cmd) !== null
const kafka = (action: string) =>
  Bun.spawnSync(['bash', 'scripts/kafka.sh', action], { cwd: root, stdout: 'inherit', stderr: 'inherit' })
    .exitCode

/** Test files with a describeKafka block: what is skipped without a broker. */
const kafkaSuites = () =>
  [...new Glob('*/test/**/*.test.ts').scanSync({ cwd: root })]
    .filter((f) => readFileSync(`${root}/${f}`, 'utf8').includes('describeKafka('))
    .sort()

if (!env.KAFKA_BROKERS && env.MART_SKIP_KAFKA !== '1') {
  if (has('java') && has('mvn')) {
    const running =
      Bun.spawnSync(['bash', 'scripts/kafka.sh', 'status'], { cwd: root, stdout: 'ignore', stderr: 'ignore' })
        .exitCode === 0
    if (!running) {
      if (kafka('start') !== 0) {
        console.error(
          '\n!!! Could not start Kafka with scripts/kafka.sh (see above). Fix it, or run with MART_SKIP_KAFKA=1.\n',
        )
        process.exit(1)
      }
      startedKafka = true
    }
    env.KAFKA_BROKERS = `127.0.0.1:${env.KAFKA_PORT ?? 9092}`
  }
}

const banner = (lines: string[]) =>
  `\n${'!'.repeat(72)}\n${lines.map((l) => `!!! ${l}`).join('\n')}\n${'!'.repeat(72)}\n`
if (!env.KAFKA_BROKERS) {
  const why =
    env.MART_SKIP_KAFKA === '1' ? 'MART_SKIP_KAFKA=1' : 'no Java/Maven to start Kafka, KAFKA_BROKERS unset'
  console.warn(
    banner([
      `Kafka-backed suites ${ci ? 'WILL FAIL (CI=true)' : 'SKIPPED'}: ${why}`,
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
const code = await test.exited
if (startedKafka) kafka('stop')
process.exit(code)
