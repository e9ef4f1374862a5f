import { join } from 'node:path'
import type { Logger } from 'pino'
import type { BaseConfig } from '../config.ts'
import { KafkaBus } from './kafka.ts'
import { MemoryBus } from './memory.ts'
import type { Bus } from './types.ts'

/**
 * Kafka when KAFKA_BROKERS is set; otherwise the in-process bus, journaled to
 * `<DATA_DIR>/<clientId>.bus.db` so that what the process published survives it.
 */
export function createBus(config: BaseConfig, clientId: string, log: Logger): Bus {
  if (!config.KAFKA_BROKERS)
    return new MemoryBus({
      partitions: config.KAFKA_TOPIC_PARTITIONS,
      file: join(config.DATA_DIR, `${clientId}.bus.db`),
      log,
    })
  return new KafkaBus({
    brokers: config.KAFKA_BROKERS.split(','),
    clientId,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    log,
  })
}
