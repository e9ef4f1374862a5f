// Exits 0 when a Kafka client can really talk to the broker at argv[2] (metadata and topic list),
// 1 otherwise; scripts/kafka.sh runs it in a loop until the broker it started answers.
import { Kafka, logLevel } from 'kafkajs'

const broker = process.argv[2] ?? '127.0.0.1:9092'
// A broker that accepts the connection but never answers must not hang the caller's loop.
setTimeout(() => process.exit(1), 8000).unref()

const admin = new Kafka({
  clientId: 'mart-kafka-ready',
  brokers: [broker],
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 3000,
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
