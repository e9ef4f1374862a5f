import type { Logger } from 'pino'
import { errorFields } from '../log.ts'
import { backoffDelay, sleep } from '../retry.ts'
import { type JournalMessage, MemoryJournal } from './memory-journal.ts'
import { partitionFor } from './partition.ts'
import type { Bus, BusMessage, Delivery, SubscribeOptions, Subscription } from './types.ts'

const PURGE_EVERY_MS = 60_000
// At most this many waiting messages of a partition go to a group's handleBatch at once.
const MAX_BATCH = 100

export interface MemoryBusOptions {
  /** Partitions per topic: keys spread over them and each is consumed in order. */
  partitions?: number
  /**
   * Test switch: hand every message to every group twice in a row, so a suite proves that its
   * handlers are idempotent. Also on with MART_BUS_DUPLICATE_DELIVERY=1.
   */
  duplicateDelivery?: boolean
  /**
   * Keep the log in this SQLite file (the embedded mode): published messages and group cursors
   * survive a crash or restart. Without it the bus lives in memory only (tests).
   */
  file?: string
  /** How often group cursors are saved to the file, like Kafka's offset commits. */
  commitIntervalMs?: number
  /**
   * How long the file keeps a message every group has consumed, for groups that appear later
   * (Kafka's retention; 7 days by default, as Kafka's).
   */
  retentionMs?: number
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
  handleBatch: SubscribeOptions['handleBatch'] | null
  /** Next offset to deliver, per topic and partition; kept across re-subscription, like committed offsets. */
  cursors: Map<string, number[]>
  pumping: Set<string>
  inflight: Set<Promise<void>>
}

/**
 * The in-process transport for the embedded single-process mode and for fast tests. Same
 * guarantees as Kafka inside one process: per-key order, every group gets every message, a message
 * whose handler throws is delivered again. With a `file` it is durable as well: `publish` resolves
 * once the messages are in the journal, and a restarted bus delivers each group what it had not
 * consumed. Without one, a message published but not yet handled is gone if the process dies.
 */
/** The message at `offset` of a partition, as a handler gets it. */
const deliveryAt = (part: Partition, partition: number, offset: number): Delivery => ({
  ...(part.log[offset - part.base] as BusMessage),
  partition,
  offset: String(offset),
  heartbeat: async () => {},
})

export class MemoryBus implements Bus {
  readonly transport = 'memory' as const
  private readonly partitions: number
  private readonly duplicate: boolean
  private readonly topics = new Map<string, Partition[]>()
  private readonly groups = new Map<string, Group>()
  private readonly journal: MemoryJournal | null = null
  /** Groups whose cursors moved since they were last saved to the journal. */
  private readonly dirty = new Set<Group>()
  private commitTimer: ReturnType<typeof setInterval> | null = null
  private lastPurge = 0
  private closed = false

  constructor(private readonly opts: MemoryBusOptions = {}) {
    this.partitions = opts.partitions ?? 3
    this.duplicate = opts.duplicateDelivery ?? process.env.MART_BUS_DUPLICATE_DELIVERY === '1'
    if (opts.file) {
      this.journal = new MemoryJournal(opts.file, opts.retentionMs ?? 7 * 86_400_000)
      this.restore(this.journal)
      this.commitTimer = setInterval(() => this.commitCursors(), opts.commitIntervalMs ?? 200)
      this.commitTimer.unref?.()
    }
  }

  async connect(): Promise<void> {}

  async ensureTopics(topics: string[]): Promise<void> {
    for (const topic of topics) {
      if (!this.topics.has(topic)) {
        this.journal?.addTopic(topic, this.partitions)
        this.topics.set(
          topic,
          Array.from({ length: this.partitions }, () => ({ base: 0, log: [] })),
        )
      }
    }
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (this.closed) throw new Error('bus is closed')
    // All or nothing: place every message (refusing unknown topics) before appending any.
    const next = new Map<Partition, number>()
    const placed: JournalMessage[] = messages.map((m) => {
      const parts = this.partitionsOf(m.topic)
      const partition = partitionFor(m.key, parts.length)
      const part = parts[partition] as Partition
      const offset = next.get(part) ?? part.base + part.log.length
      next.set(part, offset + 1)
      return { ...m, headers: { ...m.headers }, partition, offset }
    })
    this.journal?.append(placed)
    for (const { partition, offset: _, ...m } of placed) {
      this.partitionsOf(m.topic)[partition]?.log.push(m)
      for (const g of this.groups.values()) if (g.topics.has(m.topic)) this.kick(g, m.topic, partition)
    }
  }

  async subscribe(opts: SubscribeOptions): Promise<Subscription> {
    for (const t of opts.topics) this.partitionsOf(t)
    const group = this.group(opts.group)
    if (group.handle) throw new Error(`consumer group ${opts.group} already has a member in this process`)
    group.handle = opts.handle
    group.handleBatch = opts.handleBatch ?? null
    for (const t of opts.topics) {
      group.topics.add(t)
      // A new group starts at the oldest retained message, like Kafka's fromBeginning.
      if (!group.cursors.has(t)) {
        if (this.journal) this.replayHistory(this.journal, t)
        group.cursors.set(
          t,
          this.partitionsOf(t).map((p) => p.base),
        )
        // Saved at once, so that after a restart the journal keeps what this group has not read.
        if (this.journal) this.dirty.add(group)
      }
      for (let p = 0; p < this.partitionsOf(t).length; p++) this.kick(group, t, p)
    }
    return {
      close: async () => {
        group.handle = null
        group.handleBatch = null
        await Promise.all(group.inflight)
      },
    }
  }

  isReady(): boolean {
    return !this.closed
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const g of this.groups.values()) {
      g.handle = null
      g.handleBatch = null
    }
    await Promise.all([...this.groups.values()].flatMap((g) => [...g.inflight]))
    if (this.commitTimer) clearInterval(this.commitTimer)
    this.commitCursors(true)
    this.journal?.close()
  }

  /** Rebuilds topics, retained messages and group cursors from the journal of an earlier run. */
  private restore(journal: MemoryJournal): void {
    const { topics, messages, cursors } = journal.read()
    for (const [topic, count] of topics) {
      const parts: Partition[] = Array.from({ length: count }, () => ({ base: 0, log: [] }))
      this.topics.set(topic, parts)
      // An empty partition resumes after the furthest cursor: offsets never repeat.
      for (const c of cursors) {
        const part = c.topic === topic ? parts[c.partition] : undefined
        if (part && c.next > part.base) part.base = c.next
      }
    }
    for (const { topic, partition, offset, ...m } of messages) {
      const part = this.topics.get(topic)?.[partition]
      if (!part) continue
      if (part.log.length === 0) part.base = offset
      part.log.push({ topic, ...m })
    }
    for (const c of cursors) {
      const parts = this.topics.get(c.topic)
      if (!parts || c.partition >= parts.length) continue
      const g = this.group(c.group)
      let at = g.cursors.get(c.topic)
      if (!at) {
        at = parts.map((p) => p.base)
        g.cursors.set(c.topic, at)
      }
      at[c.partition] = c.next
    }
  }

  /** Brings back from the journal what every group had consumed, for a group that is new to `topic`. */
  private replayHistory(journal: MemoryJournal, topic: string): void {
    this.partitionsOf(topic).forEach((part, partition) => {
      const older = journal.history(topic, partition, part.base)
      if (older.length === 0) return
      part.log.unshift(...older.map(({ partition: _, offset: __, ...m }) => m))
      part.base = older[0]?.offset ?? part.base
    })
  }

  /** The group of that name, created (with no member yet) if this bus has not seen it. */
  private group(name: string): Group {
    let g = this.groups.get(name)
    if (!g) {
      g = {
        name,
        topics: new Set(),
        handle: null,
        handleBatch: null,
        cursors: new Map(),
        pumping: new Set(),
        inflight: new Set(),
      }
      this.groups.set(name, g)
    }
    return g
  }

  /**
   * Saves moved cursors and, once a minute (and at close), drops from the journal what every group
   * has consumed and the retention no longer keeps: that delete walks the partition's consumed
   * rows, too much to do every 200 ms on the path of the next publish.
   */
  private commitCursors(purge = Date.now() - this.lastPurge >= PURGE_EVERY_MS): void {
    if (!this.journal || (this.dirty.size === 0 && !purge)) return
    const saved = [...this.dirty]
    const cursors = saved.flatMap((g) =>
      [...g.cursors].flatMap(([topic, at]) =>
        at.map((next, partition) => ({ group: g.name, topic, partition, next })),
      ),
    )
    const trimBelow = [...(purge ? this.topics.keys() : [])].flatMap((topic) =>
      this.partitionsOf(topic).map((_, partition) => ({
        topic,
        partition,
        offset: this.consumedByAll(topic, partition),
      })),
    )
    try {
      this.journal.commit(
        cursors,
        trimBelow.filter((t) => Number.isFinite(t.offset)),
      )
      for (const g of saved) this.dirty.delete(g)
      if (purge) this.lastPurge = Date.now()
    } catch (err) {
      // The cursors stay dirty and go with the next commit; until then a restart redelivers more.
      this.opts.log?.warn(errorFields(err), 'saving consumer cursors failed')
    }
  }

  /** The lowest next offset over every group that reads the topic: below it, everyone is done. */
  private consumedByAll(topic: string, partition: number): number {
    let min = Number.POSITIVE_INFINITY
    for (const g of this.groups.values()) {
      const c = g.cursors.get(topic)?.[partition]
      if (c !== undefined && c < min) min = c
    }
    return min
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
    const run = this.pump(g, topic, partition, id).finally(() => g.inflight.delete(run))
    g.inflight.add(run)
  }

  /** Delivers one partition to one group, strictly in order, until it is drained or the group leaves. */
  private async pump(g: Group, topic: string, partition: number, id: string): Promise<void> {
    try {
      await Promise.resolve() // never run a handler inside the publisher's call
      const part = this.partitionsOf(topic)[partition] as Partition
      const cursors = g.cursors.get(topic) as number[]
      let failures = 0
      // Below this offset, messages go one by one: a batch of them failed.
      let singlyUntil = 0
      while (g.handle && (cursors[partition] as number) < part.base + part.log.length) {
        const offset = cursors[partition] as number
        const waiting = part.base + part.log.length - offset
        if (g.handleBatch && waiting > 1 && offset >= singlyUntil) {
          const batch: Delivery[] = []
          for (let at = offset; at < offset + Math.min(waiting, MAX_BATCH); at++) {
            batch.push(deliveryAt(part, partition, at))
          }
          try {
            await g.handleBatch(batch)
            if (this.duplicate && g.handleBatch) await g.handleBatch(batch)
            this.advance(g, topic, partition, offset + batch.length)
          } catch {
            // Nothing of it was applied: the one-by-one path below retries, logs and dead-letters.
            singlyUntil = offset + batch.length
          }
          continue
        }
        const delivery = deliveryAt(part, partition, offset)
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
        this.advance(g, topic, partition, offset + 1)
      }
    } finally {
      // In the same tick as the loop's last look at the partition. Cleared any later (once the
      // promise settles), a message published in between would find the pump still marked running,
      // start none, and wait for the next message on the partition: possibly forever.
      g.pumping.delete(id)
    }
  }

  /** The group has consumed the partition up to `next`: its cursor moves (journaled), and the log is trimmed. */
  private advance(g: Group, topic: string, partition: number, next: number): void {
    ;(g.cursors.get(topic) as number[])[partition] = next
    if (this.journal) this.dirty.add(g)
    this.trim(topic, partition)
  }

  /** Drops messages every group that ever read the topic has consumed. */
  private trim(topic: string, partition: number): void {
    const part = this.partitionsOf(topic)[partition] as Partition
    const min = this.consumedByAll(topic, partition)
    const drop = min - part.base
    // In chunks: splicing the front of an array per message would make a backlog quadratic.
    if (Number.isFinite(drop) && drop > 0 && (drop >= 1024 || drop === part.log.length)) {
      part.log.splice(0, drop)
      part.base = min
    }
  }
}
