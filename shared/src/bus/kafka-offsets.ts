// A Kafka consumer group's progress, committed in the background. kafkajs's own auto-commit sends an
// OffsetCommit after every batch it hands over; under a steady trickle a batch is one message, so
// each message cost a commit round trip (and a write to the broker's __consumer_offsets log) on top
// of its fetch. Here only handled offsets are noted, as the handler's transaction commits, and sent
// together a few times a second. What a crash loses is a few hundred milliseconds of commits: those
// messages come again and the inbox absorbs them, as it does for any redelivery.

export interface OffsetToCommit {
  /** The physical topic. */
  topic: string
  partition: number
  /** The next offset to read: the handled message's plus one. */
  offset: string
}

export class PendingOffsets {
  private readonly pending = new Map<string, OffsetToCommit>()

  /** `offset` of `topic`/`partition` was handled (its transaction committed). */
  handled(topic: string, partition: number, offset: string): void {
    this.pending.set(`${topic}\0${partition}`, { topic, partition, offset: String(BigInt(offset) + 1n) })
  }

  get size(): number {
    return this.pending.size
  }

  /** What to commit now; the caller gives back what it could not send with `failed`. */
  take(): OffsetToCommit[] {
    const out = [...this.pending.values()]
    this.pending.clear()
    return out
  }

  /** A commit failed: its offsets wait for the next one, unless a later offset replaced them meanwhile. */
  failed(offsets: OffsetToCommit[]): void {
    for (const o of offsets) {
      const key = `${o.topic}\0${o.partition}`
      if (!this.pending.has(key)) this.pending.set(key, o)
    }
  }

  /** After a rebalance: forgets partitions this member no longer has (their new owner commits them). */
  keepOnly(assignment: Record<string, number[]>): void {
    for (const [key, o] of this.pending) {
      if (!assignment[o.topic]?.includes(o.partition)) this.pending.delete(key)
    }
  }
}
