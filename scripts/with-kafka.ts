// Finds or starts the Kafka that tests and benchmarks run against.
import { root } from './services.ts'

const launcher = (action: string, quiet = false) =>
  Bun.spawnSync(['bash', 'scripts/kafka.sh', action], {
    cwd: root,
    stdout: quiet ? 'ignore' : 'inherit',
    stderr: quiet ? 'ignore' : 'inherit',
  }).exitCode

export interface KafkaHandle {
  brokers: string | null
  /** Why there is no broker, when there is none. */
  missing?: string
  /** Stops the broker if this process started it. */
  release(): void
}

/**
 * KAFKA_BROKERS when set; otherwise a broker from scripts/kafka.sh when Java and Maven are there
 * (an already running one is reused and left running). Throws when the launcher fails.
 */
export function withKafka(env: Record<string, string | undefined> = process.env): KafkaHandle {
  if (env.KAFKA_BROKERS) return { brokers: env.KAFKA_BROKERS, release() {} }
  if (env.MART_SKIP_KAFKA === '1') return { brokers: null, missing: 'MART_SKIP_KAFKA=1', release() {} }
  if (!Bun.which('java') || !Bun.which('mvn')) {
    return { brokers: null, missing: 'no Java/Maven to start Kafka, KAFKA_BROKERS unset', release() {} }
  }
  const brokers = `127.0.0.1:${env.KAFKA_PORT ?? 9092}`
  if (launcher('status', true) === 0) return { brokers, release() {} }
  if (launcher('start') !== 0) throw new Error('could not start Kafka with scripts/kafka.sh (see above)')
  return { brokers, release: () => void launcher('stop') }
}
