import type { Logger } from 'pino'
import { errorFields } from '../log.ts'
import { backoffDelay, sleep } from '../retry.ts'
import { partitionFor } from './partition.ts'
import type { Bus, BusMessage, Delivery, SubscribeOptions, Subscription } from './types.ts'

export interface MemoryBusOptions {
  /** Partitions per topic: keys spread over them and each is consumed in order. */
  partitions?: number
  /**
   * Test switch: hand every message to every group twice in a row, so a suite proves that its
   * handlers are idempotent. Also on with MART_BUS_DUPLICATE_DELIVERY=1.
   */
  duplicateDelivery?: boolean
  log?: Logger
}

interface Partition {
  /** Offset of log[0]: consumed messages are trimmed from the front. */
  base: number
  log: BusMessage[]
}

interface Group {
  name: string
  topics: Set<string>
  handle: SubscribeOptions['handle'] | null
  /** Next offset to deliver, per topic and partition; kept across re-subscription, like committed offsets. */
  cursors: Map<string, number[]>
  pumping: Set<string>
  inflight: Set<Promise<void>>
}

/**
 * The in-process transport for the embedded single-process mode and for fast tests. Same
 * guarantees as Kafka inside one process: per-key order, every group gets every message, a message
 * whose handler throws is delivered again. Not durable: a message published but not yet handled
 * is gone if the process dies (the outbox has already marked it sent).
 */
export class MemoryBus implements Bus {
  readonly transport = 'memory' as const
  private readonly partitions: number
  private readonly duplicate: boolean
  private readonly topics = new Map<string, Partition[]>()
  private readonly groups = new Map<string, Group>()
  private closed = false

  constructor(private readonly opts: MemoryBusOptions = {}) {
    this.partitions = opts.partitions ?? 3
    this.duplicate = opts.duplicateDelivery ?? process.env.MART_BUS_DUPLICATE_DELIVERY === '1'
  }

  async connect(): Promise<void> {}

  async ensureTopics(topics: string[]): Promise<void> {
    for (const topic of topics) {
      if (!this.topics.has(topic)) {
        this.topics.set(
          topic,
          Array.from({ length: this.partitions }, () => ({ base: 0, log: [] })),
        )
      }
    }
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (this.closed) throw new Error('bus is closed')
    for (const m of messages) this.partitionsOf(m.topic) // all or nothing: refuse before appending any
    for (const m of messages) {
      const p = partitionFor(m.key, this.partitions)
      this.partitionsOf(m.topic)[p]?.log.push({ ...m, headers: { ...m.headers } })
      for (const g of this.groups.values()) if (g.topics.has(m.topic)) this.kick(g, m.topic, p)
    }
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    for (const t of opts.topics) this.partitionsOf(t)
    let g = this.groups.get(opts.group)
    if (g?.handle) throw new Error(`consumer group ${opts.group} already has a member in this process`)
    if (!g) {
      g = {
        name: opts.group,
        topics: new Set(),
        handle: null,
        cursors: new Map(),
        pumping: new Set(),
        inflight: new Set(),
      }
      this.groups.set(opts.group, g)
    }
    const group = g
    group.handle = opts.handle
    for (const t of opts.topics) {
      group.topics.add(t)
      // A new group starts at the oldest retained message, like Kafka's fromBeginning.
      if (!group.cursors.has(t))
        group.cursors.set(
          t,
          this.partitionsOf(t).map((p) => p.base),
        )
      for (let p = 0; p < this.partitions; p++) this.kick(group, t, p)
    }
    return {
      close: async () => {
        group.handle = null
        await Promise.all(group.inflight)
      },
    }
  }

  isReady(): boolean {
    return !this.closed
  }

  async close(): Promise<void> {
    this.closed = true
    for (const g of this.groups.values()) g.handle = null
    await Promise.all([...this.groups.values()].flatMap((g) => [...g.inflight]))
  }

  private partitionsOf(topic: string): Partition[] {
    const parts = this.topics.get(topic)
    if (!parts) throw new Error(`unknown topic ${topic}: ensureTopics first`)
    return parts
  }

  private kick(g: Group, topic: string, partition: number): void {
    const id = `${topic}/${partition}`
    if (g.pumping.has(id) || !g.handle) return
    g.pumping.add(id)
    const run = this.pump(g, topic, partition).finally(() => {
      g.pumping.delete(id)
      g.inflight.delete(run)
    })
    g.inflight.add(run)
  }

  /** Delivers one partition to one group, strictly in order, until it is drained or the group leaves. */
  private async pump(g: Group, topic: string, partition: number): Promise<void> {
    await Promise.resolve() // never run a handler inside the publisher's call
    const part = this.partitionsOf(topic)[partition] as Partition
    const cursors = g.cursors.get(topic) as number[]
    let failures = 0
    while (g.handle && (cursors[partition] as number) < part.base + part.log.length) {
      const offset = cursors[partition] as number
      const m = part.log[offset - part.base] as BusMessage
      const delivery: Delivery = { ...m, partition, offset: String(offset), heartbeat: async () => {} }
      try {
        await g.handle(delivery)
        if (this.duplicate && g.handle) await g.handle(delivery)
      } catch (err) {
        failures++
        this.opts.log?.warn(
          { group: g.name, topic, partition, offset, ...errorFields(err) },
          'handler failed; redelivering',
        )
        await sleep(backoffDelay(failures, { initialMs: 50, maxMs: 2000 }))
        continue
      }
      failures = 0
      cursors[partition] = offset + 1
      this.trim(topic, partition)
    }
  }

  /** Drops messages every group that ever read the topic has consumed. */
  private trim(topic: string, partition: number): void {
    const part = this.partitionsOf(topic)[partition] as Partition
    let min = Number.POSITIVE_INFINITY
    for (const g of this.groups.values()) {
      const c = g.cursors.get(topic)?.[partition]
      if (c !== undefined && c < min) min = c
    }
    const drop = min - part.base
    // In chunks: splicing the front of an array per message would make a backlog quadratic.
    if (Number.isFinite(drop) && drop > 0 && (drop >= 1024 || drop === part.log.length)) {
      part.log.splice(0, drop)
      part.base = min
    }
  }
}
