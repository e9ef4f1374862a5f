// Dead letters: list what is in <topic>.dlq and put chosen messages back on their topic.
//   bun run dlq list <topic>
//   bun run dlq redrive <topic> <partition/offset>... | --all
// On Kafka when KAFKA_BROKERS (or KAFKA_BOOTSTRAP_SERVERS) is set; otherwise in the embedded mode's bus journal,
// <DATA_DIR>/bus.db (listing works while Mart runs; a redrive needs it stopped, since the running
// marketplace owns the journal). The consumers' inboxes make a redrive safe: a group that already
// applied the event skips it.
import { join } from 'node:path'
import {
  type Bus,
  createLogger,
  type DeadLetter,
  describeDeadLetter,
  KafkaBus,
  MemoryBus,
  readDeadLetters,
  readJournalDeadLetters,
  redriveMessage,
  settingOf,
} from '@mart/shared'

const [command, topic, ...rest] = process.argv.slice(2)
const brokers = (settingOf(process.env, 'KAFKA_BROKERS') ?? '').split(',').filter(Boolean)
const topicPrefix = process.env.KAFKA_TOPIC_PREFIX ?? ''
const journal = join(process.env.DATA_DIR ?? './data', 'bus.db')
const log = createLogger({ service: 'dlq', level: 'warn' })

function usage(message?: string): never {
  if (message) console.error(message)
  console.error(
    'usage: bun run dlq list <topic>\n       bun run dlq redrive <topic> <partition/offset>... | --all',
  )
  process.exit(2)
}

if (!topic || (command !== 'list' && command !== 'redrive')) usage()

const letters: DeadLetter[] = brokers.length
  ? await readDeadLetters({ brokers, topicPrefix }, topic)
  : readJournalDeadLetters(journal, topic)
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

let bus: Bus
try {
  bus = brokers.length
    ? new KafkaBus({ brokers, clientId: 'mart-dlq', topicPrefix, log })
    : new MemoryBus({ file: journal, log })
} catch (err) {
  // The journal's owner check: the running marketplace holds it.
  console.error(`${err instanceof Error ? err.message : String(err)}\nstop it, then redrive`)
  process.exit(1)
}
await bus.publish(chosen.map((l) => redriveMessage(l, topic)))
await bus.close()
console.log(`redrove ${chosen.length} message(s) from ${topic}.dlq to their topic`)
