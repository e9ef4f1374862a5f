import { Kafka, logLevel } from 'kafkajs'
import { dlqTopic } from '../events/catalog.ts'
import { dlqHeaders } from '../events/dead-letter.ts'
import { readJournalTopic } from './memory-journal.ts'
import type { BusMessage } from './types.ts'

export interface DeadLetter {
  partition: number
  offset: string
  key: string
  value: string
  headers: Record<string, string>
}

export interface DlqOptions {
  brokers: string[]
  topicPrefix?: string
}

const client = (o: DlqOptions) =>
  new Kafka({ clientId: 'mart-dlq', brokers: o.brokers, logLevel: logLevel.NOTHING })

/** Every message currently in `<topic>.dlq`, oldest first per partition. */
export async function readDeadLetters(opts: DlqOptions, topic: string): Promise<DeadLetter[]> {
  const physical = (opts.topicPrefix ?? '') + dlqTopic(topic)
  const kafka = client(opts)
  const admin = kafka.admin()
  await admin.connect()
  const ends = await admin.fetchTopicOffsets(physical).finally(() => admin.disconnect())
  const remaining = new Map(
    ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, BigInt(p.high)]),
  )
  const out: DeadLetter[] = []
  if (remaining.size === 0) return out
  // A throwaway group: reading the DLQ must not move anybody's offsets.
  const consumer = kafka.consumer({ groupId: `mart-dlq-reader-${crypto.randomUUID()}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: physical, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {}
            for (const [k, v] of Object.entries(message.headers ?? {}))
              if (v !== undefined) headers[k] = String(v)
            out.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? '',
              value: message.value?.toString() ?? '',
              headers,
            })
            const end = remaining.get(partition)
            if (end !== undefined && BigInt(message.offset) + 1n >= end) remaining.delete(partition)
            if (remaining.size === 0) resolve()
          },
        })
        .catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))
}

/** Every message in `<topic>.dlq` of the in-process bus's journal file (the embedded mode). */
export function readJournalDeadLetters(journalFile: string, topic: string): DeadLetter[] {
  return readJournalTopic(journalFile, dlqTopic(topic)).map((m) => ({
    partition: m.partition,
    offset: String(m.offset),
    key: m.key,
    value: m.value,
    headers: m.headers,
  }))
}

/** The message to publish to put a dead letter back on the topic it came from. */
export function redriveMessage(letter: DeadLetter, fallbackTopic: string): BusMessage {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(letter.headers)) if (!k.startsWith('dlq-')) headers[k] = v
  headers['redriven-from'] = `${letter.partition}/${letter.offset}`
  return {
    topic: letter.headers[dlqHeaders.topic] ?? fallbackTopic,
    key: letter.key,
    value: letter.value,
    headers,
  }
}

/** A one-line summary of a dead letter for listings. */
export function describeDeadLetter(l: DeadLetter): Record<string, string> {
  let type = '?'
  let id = '?'
  try {
    const v = JSON.parse(l.value) as { type?: unknown; id?: unknown }
    type = String(v.type ?? '?')
    id = String(v.id ?? '?')
  } catch {}
  return {
    at: `${l.partition}/${l.offset}`,
    type,
    id,
    group: l.headers[dlqHeaders.group] ?? '?',
    reason: l.headers[dlqHeaders.reason] ?? '?',
    error: l.headers[dlqHeaders.error] ?? '?',
    failedAt: l.headers[dlqHeaders.failedAt] ?? '?',
  }
}
