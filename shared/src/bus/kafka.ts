import {
  type Admin,
  type Consumer,
  Kafka,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type ProducerBatch,
} from 'kafkajs'
import type { Logger } from 'pino'
import { errorFields } from '../log.ts'
import { backoffDelay, sleep } from '../retry.ts'
import { PendingOffsets } from './kafka-offsets.ts'
import type { Bus, BusMessage, Delivery, PartitionLag, SubscribeOptions, Subscription } from './types.ts'

export interface KafkaBusOptions {
  brokers: string[]
  clientId: string
  /** Partitions for the topics this bus creates. */
  partitions?: number
  replicationFactor?: number
  /** Prepended to every topic name: isolates environments (or test runs) on one cluster. */
  topicPrefix?: string
  log: Logger
  /**
   * How often the bus asks the broker whether it is there (ms). A consumer alone says nothing for
   * minutes when the broker hangs, and a publish only fails after its retries: readiness needs its
   * own answer.
   */
  probeMs?: number
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
}

const PROBE_TIMEOUT_MS = 5000
/** How often a group's handled offsets are committed (kafkajs's autoCommitInterval, which we had). */
const COMMIT_EVERY_MS = 200
/** At most this many messages of a fetched batch go to a group's handleBatch at once. */
const MAX_BATCH = 100

/**
 * Kafka through kafkajs: an idempotent producer (acks=-1, one request in flight so retries keep
 * order), topics created up front, consumer groups whose offsets are committed only for messages
 * whose handler resolved (in the background, PendingOffsets), a fetched batch handed to the
 * group's handleBatch in one piece, fetch settings tuned for a saga's latency, reconnection when
 * the broker goes away and returns, and a probe of the broker so that readiness says when it is away.
 */
export class KafkaBus implements Bus {
  readonly transport = 'kafka' as const
  private readonly kafka: Kafka
  private readonly producer: Producer
  private producerConnected = false
  /** Set while the last publish failed (broker away): readiness follows the broker. */
  private publishFailing = false
  /** Groups whose consumer crashed and has not rejoined yet. */
  private readonly crashed = new Set<string>()
  private connecting: Promise<void> | null = null
  private readonly consumers = new Set<Consumer>()
  private readonly prefix: string
  /** Connected on the first lag question (a metrics scrape) and kept: one connection, not one per scrape. */
  private admin: Promise<Admin> | null = null
  /** Set while the last probe found no broker. */
  private brokerAway = false
  private probing: ReturnType<typeof setInterval> | null = null
  private prober: Admin | null = null

  constructor(private readonly opts: KafkaBusOptions) {
    this.prefix = opts.topicPrefix ?? ''
    const log = opts.log.child({ component: 'kafkajs' })
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      retry: { initialRetryTime: 100, maxRetryTime: 5000, retries: 8 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ namespace, level, log: entry }: LogEntry) => {
          const { message, timestamp: _t, logger: _l, ...extra } = entry
          // We bound the producer's retries on purpose (the relay retries with backoff and stays
          // responsive to shutdown); a resend that duplicates a message is absorbed by the inboxes.
          if (message.startsWith('Limiting retries for the idempotent producer')) return
          log[levels[level] ?? 'info']({ namespace, ...extra }, message)
        },
    })
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
    this.producer.on(this.producer.events.CONNECT, () => {
      this.producerConnected = true
    })
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.producerConnected = false
    })
  }

  private physical = (topic: string) => this.prefix + topic
  private logical = (topic: string) =>
    topic.startsWith(this.prefix) ? topic.slice(this.prefix.length) : topic

  async ensureTopics(topics: string[]): Promise<void> {
    const admin: Admin = this.kafka.admin()
    await admin.connect()
    try {
      const existing = new Set(await admin.listTopics())
      const missing = topics.map(this.physical).filter((t) => !existing.has(t))
      if (missing.length === 0) return
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic,
            numPartitions: this.opts.partitions ?? 3,
            replicationFactor: this.opts.replicationFactor ?? 1,
          })),
        })
      } catch (err) {
        // Another service created them between our list and create: that is the state we wanted.
        if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err
      }
    } finally {
      await admin.disconnect()
    }
  }

  async connect(): Promise<void> {
    this.startProbing()
    if (this.producerConnected) return
    this.connecting ??= this.producer.connect().finally(() => {
      this.connecting = null
    })
    await this.connecting
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return
    await this.connect()
    const batch: NonNullable<ProducerBatch['topicMessages']> = []
    for (const m of messages) {
      const topic = this.physical(m.topic)
      let entry = batch.find((b) => b.topic === topic)
      if (!entry) {
        entry = { topic, messages: [] }
        batch.push(entry)
      }
      entry.messages.push({ key: m.key, value: m.value, headers: m.headers })
    }
    try {
      await this.producer.sendBatch({ topicMessages: batch, acks: -1 })
      this.publishFailing = false
    } catch (err) {
      this.publishFailing = true
      throw err
    }
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    let closed = false
    const stopped = new AbortController()
    let current: Consumer | null = null
    let replacing = false
    const pending = new PendingOffsets()
    /** The batches being handled now: closing waits for them, then commits what they did. */
    const handling = new Set<Promise<void>>()

    /** Commits the offsets handled since the last commit; kept for the next one if it fails. */
    const commit = async () => {
      const consumer = current
      if (!consumer || pending.size === 0) return
      const offsets = pending.take()
      try {
        await consumer.commitOffsets(offsets)
      } catch (err) {
        pending.failed(offsets)
        this.opts.log.warn({ group: opts.group, ...errorFields(err) }, 'offset commit failed; retrying')
      }
    }
    let committing: Promise<void> | null = null
    const commitSoon = () => {
      committing ??= commit().finally(() => {
        committing = null
      })
      return committing
    }
    const committer = setInterval(commitSoon, COMMIT_EVERY_MS)
    committer.unref?.()

    /** One fetched batch of one partition: in pieces through handleBatch, else one by one; in order. */
    const handleFetched = async (
      topic: string,
      partition: number,
      deliveries: Delivery[],
      resolveOffset: (offset: string) => void,
      heartbeat: () => Promise<void>,
      stale: () => boolean,
    ) => {
      const done = (d: Delivery) => {
        // The fetch position (kafkajs) and the offset to commit (ours) move only past what is handled.
        resolveOffset(d.offset)
        pending.handled(topic, partition, d.offset)
      }
      // Below this index, messages go one by one: a batch of them failed.
      let singlyUntil = 0
      for (let i = 0; i < deliveries.length; ) {
        if (closed || stale()) return
        if (opts.handleBatch && deliveries.length - i > 1 && i >= singlyUntil) {
          const chunk = deliveries.slice(i, i + MAX_BATCH)
          try {
            await opts.handleBatch(chunk)
            done(chunk.at(-1) as Delivery)
            i += chunk.length
          } catch {
            // Nothing of it was applied: the one-by-one path retries, logs and dead-letters.
            singlyUntil = i + chunk.length
          }
        } else {
          const d = deliveries[i] as Delivery
          await opts.handle(d)
          done(d)
          i++
        }
        await heartbeat()
      }
    }

    /** A consumer of the group, connected, subscribed and running; `joined` once it is in the group. */
    const begin = async () => {
      const consumer = this.kafka.consumer({
        groupId: this.prefix + opts.group,
        // With minBytes 1 the broker answers a fetch as soon as one message is there, and maxWait
        // bounds how long it holds one that finds nothing: a short wait is a fetch round trip every
        // few ms per service at rest (50 ms: a quarter of a core for the six, and the broker's). Yet
        // a long one is not free: at 500 ms the Kafka suites' sagas took up to 2.5x as long (three
        // suites 36 s at 50 ms, 37 s at 100, 62 s at 500), some message waiting out a held fetch.
        // Well under the session timeout, since an empty fetch is when kafkajs heartbeats.
        maxWaitTimeInMs: 100,
        minBytes: 1,
        sessionTimeout: 10_000,
        rebalanceTimeout: 20_000,
        heartbeatInterval: 1000,
        allowAutoTopicCreation: false,
        retry: {
          initialRetryTime: 100,
          maxRetryTime: 5000,
          retries: 10,
          // After the retries, start over rather than leave the group dead: the broker may come back.
          restartOnFailure: async () => true,
        },
      })
      this.consumers.add(consumer)
      current = consumer
      const joined = new Promise<void>((resolve) =>
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          this.crashed.delete(opts.group)
          pending.keepOnly(payload.memberAssignment)
          resolve()
        }),
      )
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        this.crashed.add(opts.group)
        this.opts.log.warn(
          { group: opts.group, error: payload.error?.message, restart: payload.restart },
          'consumer crashed',
        )
        // kafkajs restarts a consumer after most crashes, but not after an error it deems final
        // (no group coordinator while the broker shuts down, say): that one stays stopped for good,
        // and the service would never consume again. A new consumer takes its place.
        if (!payload.restart && !closed && !replacing) {
          replacing = true
          void replace(consumer).finally(() => {
            replacing = false
          })
        }
      })
      try {
        await consumer.connect()
        await consumer.subscribe({ topics: opts.topics.map(this.physical), fromBeginning: true })
        await consumer.run({
          // Offsets of handled messages are committed in the background (commitSoon); one that was
          // not handled is never committed, so it comes back after a crash and the inbox absorbs
          // the repeat.
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.opts.partitions ?? 3,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
            if (closed) return
            const topic = this.logical(batch.topic)
            const deliveries = batch.messages.map((message): Delivery => {
              const headers: Record<string, string> = {}
              for (const [k, v] of Object.entries(message.headers ?? {})) {
                if (v !== undefined) headers[k] = Array.isArray(v) ? String(v[0]) : String(v)
              }
              return {
                topic,
                key: message.key?.toString() ?? '',
                value: message.value?.toString() ?? '',
                headers,
                partition: batch.partition,
                offset: message.offset,
                heartbeat,
              }
            })
            const run = handleFetched(
              batch.topic,
              batch.partition,
              deliveries,
              resolveOffset,
              heartbeat,
              isStale,
            )
            handling.add(run)
            try {
              await run
            } finally {
              handling.delete(run)
            }
          },
        })
      } catch (err) {
        this.consumers.delete(consumer)
        await consumer.disconnect().catch(() => {})
        throw err
      }
      return { consumer, joined }
    }

    /** Starts a new consumer in place of `dead`, retrying while the broker is away. */
    const replace = async (dead: Consumer) => {
      this.consumers.delete(dead)
      await dead.disconnect().catch(() => {})
      for (let attempt = 1; !closed; attempt++) {
        try {
          const { consumer } = await begin()
          if (closed) {
            this.consumers.delete(consumer)
            await consumer.disconnect()
          }
          return
        } catch (err) {
          const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 })
          this.opts.log.warn(
            { group: opts.group, attempt, retryInMs: delay, ...errorFields(err) },
            'consumer not started again yet',
          )
          await sleep(delay, stopped.signal)
        }
      }
    }

    const close = async () => {
      closed = true
      stopped.abort()
      clearInterval(committer)
      // What is being handled finishes (no new message starts), and its offsets are committed
      // before the consumer leaves; a broker that does not answer does not hold the stop for long.
      await Promise.allSettled([...handling])
      const waited = new AbortController()
      await Promise.race([
        commitSoon()
          .then(commitSoon)
          .finally(() => waited.abort()),
        sleep(PROBE_TIMEOUT_MS, waited.signal),
      ])
      const consumer = current
      if (consumer) {
        this.consumers.delete(consumer)
        await consumer.disconnect()
      }
    }

    const { joined } = await begin()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`consumer group ${opts.group} did not join within 30 s`)),
        30_000,
      )
    })
    try {
      await Promise.race([joined, timeout])
    } catch (err) {
      await close()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return { close }
  }

  isReady(): boolean {
    return this.producerConnected && !this.publishFailing && !this.brokerAway && this.crashed.size === 0
  }

  /**
   * A metadata request every probeMs, never retried and given PROBE_TIMEOUT_MS (a busy box can be
   * slow to answer; that is not an outage): the broker is away while one fails, back once one succeeds.
   */
  private startProbing(): void {
    if (this.probing) return
    const every = this.opts.probeMs ?? 2000
    const admin = this.kafka.admin({ retry: { retries: 0 } })
    this.prober = admin
    let asking = false
    this.probing = setInterval(async () => {
      if (asking) return
      asking = true
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the broker did not answer')), PROBE_TIMEOUT_MS)
      })
      try {
        const cluster = await Promise.race([admin.connect().then(() => admin.describeCluster()), late])
        this.brokerAway = cluster.brokers.length === 0
      } catch {
        this.brokerAway = true
      } finally {
        clearTimeout(timer)
        asking = false
      }
    }, every)
    this.probing.unref?.()
  }

  async lag(group: string, topics: string[]): Promise<PartitionLag[]> {
    if (!this.admin) {
      const admin = this.kafka.admin()
      this.admin = admin.connect().then(
        () => admin,
        (err) => {
          this.admin = null
          throw err
        },
      )
    }
    const admin = await this.admin
    const physical = topics.map(this.physical)
    const [committed, ends] = await Promise.all([
      admin.fetchOffsets({ groupId: this.prefix + group, topics: physical }),
      Promise.all(physical.map((t) => admin.fetchTopicOffsets(t))),
    ])
    const out: PartitionLag[] = []
    physical.forEach((topic, i) => {
      const done = committed.find((c) => c.topic === topic)?.partitions ?? []
      for (const end of ends[i] ?? []) {
        const offset = Number(done.find((p) => p.partition === end.partition)?.offset ?? -1)
        // Nothing committed yet (-1): the group starts from the earliest message it can still read.
        const from = offset < 0 ? Number(end.low) : offset
        out.push({
          topic: this.logical(topic),
          partition: end.partition,
          lag: Math.max(0, Number(end.high) - from),
        })
      }
    })
    return out
  }

  async close(): Promise<void> {
    if (this.probing) clearInterval(this.probing)
    this.probing = null
    await this.prober?.disconnect().catch(() => {})
    this.prober = null
    const admin = this.admin
    this.admin = null
    if (admin) await admin.then((a) => a.disconnect()).catch(() => {})
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()))
    this.consumers.clear()
    await this.producer.disconnect()
  }
}
