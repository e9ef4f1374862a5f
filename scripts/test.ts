// `bun run test`: the whole suite. Kafka-backed suites run against a real broker: the one in
// KAFKA_BROKERS, or one this script starts from Maven Central jars (scripts/kafka.sh) when Java and
// Maven are there. Stripe suites run against a real stripe-mock: the one in STRIPE_MOCK_URL, or one
// this script builds with Go and starts (scripts/stripe-mock.sh). Without them those suites are
// skipped, and this says so loudly (in CI they fail).
import { readFileSync } from 'node:fs'
import { Glob } from 'bun'
import { root } from './services.ts'
import { type KafkaHandle, withKafka } from './with-kafka.ts'
import { type StripeMockHandle, withStripeMock } from './with-stripe-mock.ts'

// `--soak`: the long end-to-end suites (e2e/soak: services killed mid-saga, the broker stopped), which
// the everyday run leaves out: bun test only collects *.test.ts, and these are *.soak.ts.
const soak = process.argv.includes('--soak')
const soakFiles = [...new Glob('e2e/soak/*.soak.ts').scanSync({ cwd: root })].sort().map((f) => `./${f}`)
if (soak && soakFiles.length === 0) {
  console.error('no e2e/soak/*.soak.ts to run')
  process.exit(1)
}
const args = soak
  ? [...soakFiles, ...process.argv.slice(2).filter((a) => a !== '--soak')]
  : process.argv.slice(2)
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

let stripeMock: StripeMockHandle
try {
  stripeMock = withStripeMock(env)
} catch (err) {
  kafka.release()
  console.error(`\n!!! ${(err as Error).message}. Fix it, or run with MART_SKIP_STRIPE_MOCK=1.\n`)
  process.exit(1)
}
if (stripeMock.url) env.STRIPE_MOCK_URL = stripeMock.url

/** Test files with a `describe...(` block of the given helper: what is skipped without its server. */
const suitesUsing = (helper: string) =>
  [...new Glob(soak ? 'e2e/soak/*.soak.ts' : '*/test/**/*.test.ts').scanSync({ cwd: root })]
    .filter((f) => readFileSync(`${root}/${f}`, 'utf8').includes(`${helper}(`))
    .sort()

const banner = (lines: string[]) =>
  `\n${'!'.repeat(72)}\n${lines.map((l) => `!!! ${l}`).join('\n')}\n${'!'.repeat(72)}\n`
const missing = (what: string, why: string | undefined, helper: string) => [
  `${what} suites ${ci ? 'WILL FAIL (CI=true)' : 'SKIPPED'}: ${why}`,
  ...suitesUsing(helper).map((f) => `  ${f}`),
]
// Said before the run and again after it, beside the counts, where it cannot scroll away.
const skippedLines = [
  ...(kafka.brokers ? [] : missing('Kafka-backed', kafka.missing, 'describeKafka')),
  ...(stripeMock.url ? [] : missing('stripe-mock', stripeMock.missing, 'describeStripeMock')),
]
const skipped = skippedLines.length > 0 ? banner(skippedLines) : ''
if (skipped) console.warn(skipped)

const test = Bun.spawn(['bun', 'test', '--timeout', soak ? '900000' : '60000', ...args], {
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
stripeMock.release()
kafka.release()
if (skipped) console.warn(skipped)
console.log(`\n${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`)
process.exit(code)
