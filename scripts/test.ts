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
// Said before the run and again after it, beside the counts, where it cannot scroll away.
const skipped = kafka.brokers
  ? ''
  : banner([
      `Kafka-backed suites ${ci ? 'WILL FAIL (CI=true)' : 'SKIPPED'}: ${kafka.missing}`,
      ...kafkaSuites().map((f) => `  ${f}`),
    ])
if (skipped) console.warn(skipped)

const test = Bun.spawn(['bun', 'test', '--timeout', '60000', ...args], {
  cwd: root,
  env,
  stdout: 'pipe',
  stderr: 'pipe',
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => test.kill(signal))

// Pass the runner's output through, and keep its counts for one plain closing line.
const counts: Record<string, number> = { pass: 0, fail: 0, skip: 0 }
async function relay(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true })
    out.write(text)
    buffered += text
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      const m = /^\s*(\d+) (pass|fail|skip)$/.exec(line)
      if (m) counts[m[2] as string] = Number(m[1])
    }
  }
}
await Promise.all([relay(test.stdout, process.stdout), relay(test.stderr, process.stderr)])
const code = await test.exited
kafka.release()
if (skipped) console.warn(skipped)
console.log(`\n${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`)
process.exit(code)
