/** A message as it travels: the bus moves bytes; the envelope inside is the consumer's business. */
export interface BusMessage {
  topic: string
  key: string
  value: string
  headers: Record<string, string>
}

/** A message handed to a consumer, with where it came from. */
export interface Delivery extends BusMessage {
  partition: number
  offset: string
  /** Keeps a slow handler's group membership alive (Kafka); a no-op in memory. */
  heartbeat(): Promise<void>
}

export interface SubscribeOptions {
  /** Consumer group: every group gets every message; inside a group each message goes to one member. */
  group: string
  topics: string[]
  /**
   * Called once per message, in order per partition (per key). The message counts as consumed
   * (its offset is committed) only after this resolves; if it throws, the message is delivered again.
   */
  handle(message: Delivery): Promise<void>
  /**
   * Optional: consecutive messages of one partition at once, all or nothing. The in-process bus
   * uses it when more than one message waits, so that a backlog costs one transaction rather than
   * one per message. The messages count as consumed only after it resolves; if it throws, each is
   * handed to `handle` one by one, as without it.
   */
  handleBatch?(messages: Delivery[]): Promise<void>
}

export interface Subscription {
  close(): Promise<void>
}

/** How far a consumer group is behind on one partition: messages written and not yet committed. */
export interface PartitionLag {
  topic: string
  partition: number
  lag: number
}

/** The one interface both transports implement, with the same observable semantics. */
export interface Bus {
  readonly transport: 'kafka' | 'memory'
  /** Opens the producer's connection (publish also reconnects on demand). */
  connect(): Promise<void>
  /** Creates the topics if missing (idempotent). */
  ensureTopics(topics: string[]): Promise<void>
  /** Resolves once every message is durably accepted; order is kept per topic and key. */
  publish(messages: BusMessage[]): Promise<void>
  subscribe(opts: SubscribeOptions): Promise<Subscription>
  /** True while the bus can publish (broker reachable). */
  isReady(): boolean
  /**
   * The group's lag per topic and partition (Kafka only: in memory a group is never behind for
   * long enough to watch). Asks the broker; the caller bounds how long it waits.
   */
  lag?(group: string, topics: string[]): Promise<PartitionLag[]>
  close(): Promise<void>
}
