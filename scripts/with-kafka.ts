// Finds or starts the Kafka that tests and benchmarks run against.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePortPair, inUse } from './ports.ts'
import { root } from './services.ts'

type Env = Record<string, string | undefined>

const launcher = (action: string, env: Env, quiet = false) =>
  Bun.spawnSync(['bash', 'scripts/kafka.sh', action], {
    cwd: root,
    env,
    stdout: quiet ? 'ignore' : 'inherit',
    stderr: quiet ? 'ignore' : 'inherit',
  }).exitCode

export interface KafkaHandle {
  brokers: string | null
  /** Why there is no broker, when there is none. */
  missing?: string
  /** The KAFKA_HOME_DIR of a broker started for this run alone (its broker.log is there). */
  home?: string
  /** Stops the broker if this process started it. */
  release(): void
}

/**
 * KAFKA_BROKERS when set; otherwise a broker from scripts/kafka.sh when Java and Maven are there:
 * the one `bun run kafka start` runs is reused and left running; else one is started on
 * KAFKA_PORT (9092) and stopped by `release`. When that port or the controller's (KAFKA_PORT+1)
 * is held by another process, the broker is started on free ports in a KAFKA_HOME_DIR of its own
 * instead, and removed by `release`. Throws when the launcher fails.
 */
export function withKafka(env: Env = process.env): KafkaHandle {
  if (env.KAFKA_BROKERS) return { brokers: env.KAFKA_BROKERS, release() {} }
  if (env.MART_SKIP_KAFKA === '1') return { brokers: null, missing: 'MART_SKIP_KAFKA=1', release() {} }
  if (!Bun.which('java') || !Bun.which('mvn')) {
    return { brokers: null, missing: 'no Java/Maven to start Kafka, KAFKA_BROKERS unset', release() {} }
  }
  const port = Number(env.KAFKA_PORT ?? 9092)
  if (launcher('status', env, true) === 0) return { brokers: `127.0.0.1:${port}`, release() {} }
  const taken = [port, port + 1].filter((p) => Number.isInteger(p) && inUse(p))
  if (taken.length === 0) {
    if (launcher('start', env) !== 0)
      throw new Error('could not start Kafka with scripts/kafka.sh (see above)')
    return { brokers: `127.0.0.1:${port}`, release: () => void launcher('stop', env) }
  }

  const home = mkdtempSync(join(tmpdir(), 'mart-kafka-'))
  const own = {
    ...env,
    KAFKA_PORT: String(freePortPair('a broker and its controller')),
    KAFKA_HOME_DIR: home,
  }
  console.warn(
    `with-kafka: 127.0.0.1:${taken.join(' and ')} ${taken.length > 1 ? 'are' : 'is'} in use by another process, ` +
      `not a broker of \`bun run kafka\`; starting one for this run on 127.0.0.1:${own.KAFKA_PORT} ` +
      `(to use a broker that is already running, set KAFKA_BROKERS=host:port)`,
  )
  const release = () => {
    launcher('stop', own, true)
    rmSync(home, { recursive: true, force: true })
  }
  if (launcher('start', own) !== 0) {
    release()
    throw new Error('could not start Kafka with scripts/kafka.sh on free ports (see above)')
  }
  return { brokers: `127.0.0.1:${own.KAFKA_PORT}`, home, release }
}
