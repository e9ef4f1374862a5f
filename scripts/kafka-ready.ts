// Exits 0 when a Kafka client can really talk to the broker at argv[2] (metadata and topic list).
import { Kafka, logLevel } from 'kafkajs'

const broker = process.argv[2] ?? '127.0.0.1:9092'
const admin = new Kafka({
  clientId: 'mart-kafka-ready',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  retry: { retries: 0 },
}).admin()
try {
  await admin.connect()
  await admin.listTopics()
  await admin.disconnect()
  process.exit(0)
} catch {
  process.exit(1)
}
