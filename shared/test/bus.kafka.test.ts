import { KafkaBus } from '../src/index.ts'
import { describeKafka, testLogger, uniquePrefix } from '../src/testing.ts'
import { busContract, TOPICS } from './support/bus-contract.ts'

describeKafka('kafka transport', (brokers) => {
  const prefixes = new WeakMap<KafkaBus, string>()
  busContract({
    async create() {
      const topicPrefix = uniquePrefix()
      const bus = new KafkaBus({
        brokers,
        clientId: 'contract',
        partitions: 3,
        topicPrefix,
        log: testLogger('kafka'),
      })
      prefixes.set(bus, topicPrefix)
      await bus.connect()
      await bus.ensureTopics(TOPICS)
      return bus
    },
    childEnv: (bus) => ({
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefixes.get(bus as KafkaBus) ?? '',
    }),
  })
})
