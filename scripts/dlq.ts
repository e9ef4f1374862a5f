// Dead letters on Kafka: list what is in <topic>.dlq and put chosen messages back on their topic.
//   bun run dlq list <topic>
//   bun run dlq redrive <topic> <partition/offset>... | --all
// The consumers' inboxes make a redrive safe: a group that already applied the event skips it.
import { createLogger, describeDeadLetter, KafkaBus, readDeadLetters, redriveMessage } from '@mart/shared'

const [command, topic, ...rest] = process.argv.slice(2)
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean)
const topicPrefix = process.env.KAFKA_TOPIC_PREFIX ?? ''

function usage(message?: string): never {
  if (message) console.error(message)
  console.error(
    'usage: bun run dlq list <topic>\n       bun run dlq redrive <topic> <partition/offset>... | --all',
  )
  process.exit(2)
}

if (!brokers.length)
  usage('KAFKA_BROKERS is not set (the embedded in-process bus keeps no dead letters across restarts)')
if (!topic || (command !== 'list' && command !== 'redrive')) usage()

const letters = await readDeadLetters({ brokers, topicPrefix }, topic)
if (command === 'list') {
  if (letters.length === 0) console.log(`${topic}.dlq is empty`)
  for (const l of letters) console.log(JSON.stringify(describeDeadLetter(l)))
  process.exit(0)
}

const wanted = rest.includes('--all') ? null : new Set(rest)
if (wanted && wanted.size === 0) usage('name the messages to redrive (partition/offset) or --all')
const chosen = letters.filter((l) => !wanted || wanted.has(`${l.partition}/${l.offset}`))
const missing = wanted
  ? [...wanted].filter((w) => !chosen.some((l) => `${l.partition}/${l.offset}` === w))
  : []
if (missing.length) usage(`not in ${topic}.dlq: ${missing.join(', ')}`)

const bus = new KafkaBus({
  brokers,
  clientId: 'mart-dlq',
  topicPrefix,
  log: createLogger({ service: 'dlq', level: 'warn' }),
})
await bus.publish(chosen.map((l) => redriveMessage(l, topic)))
await bus.close()
console.log(`redrove ${chosen.length} message(s) from ${topic}.dlq to their topic`)
