import { describe } from 'bun:test'
import { MemoryBus } from '../src/index.ts'
import { busContract, TOPICS } from './support/bus-contract.ts'

describe('memory transport', () => {
  busContract({
    async create() {
      const bus = new MemoryBus({ partitions: 3 })
      await bus.ensureTopics(TOPICS)
      return bus
    },
    childEnv: () => ({ KAFKA_BROKERS: '' }),
  })
})
