// GET /api/orders/:id/stream: the order's view on every change, as Server-Sent Events, until it ends.
// Every event is a stored version (order_versions), read after the last one sent: a notification
// only says "look again", so a missed or coalesced notification loses nothing, and a client that
// reconnects with Last-Event-ID gets exactly the versions after it, in order. The bounds, heartbeat
// and token checks are every stream's (EventStreams, in shared).
import {
  EventStreams,
  type Logger,
  notFound,
  type Principal,
  type StreamLimits,
  sseEvent,
  sseRetry,
  streamHeaders,
  type TokenVerifier,
} from '@mart/shared'
import type { OrderChanges } from './changes.ts'
import { NO_ORDER } from './commands.ts'
import type { OrderReads } from './reads.ts'
import { isEnded, type OrderStatus } from './transitions.ts'

export type { StreamLimits }

type Version = { version: number; view: string }

const frame = (v: Version) => sseEvent(v.version, 'order', v.view)
const isFinal = (v: Version | undefined) =>
  v !== undefined && isEnded((JSON.parse(v.view) as { status: OrderStatus }).status)

export interface StreamRequest {
  request: Request
  user: Principal
  orderId: string
  /** The Last-Event-ID header: the version the client has. */
  lastEventId: number | undefined
}

export class OrderStreams {
  private readonly streams: EventStreams

  constructor(
    private readonly deps: { reads: OrderReads; changes: OrderChanges; verifier: TokenVerifier; log: Logger },
    limits: Partial<StreamLimits> = {},
  ) {
    this.streams = new EventStreams({ name: 'order', verifier: deps.verifier, log: deps.log }, limits)
  }

  /** How many streams are open. */
  get size(): number {
    return this.streams.size
  }

  /** Ends every open stream and refuses new ones (503): the service is stopping. */
  endAll(): void {
    this.streams.endAll()
  }

  /**
   * The stream of `orderId` for its owner or an admin (404 for anyone else): the versions after
   * `lastEventId`, then each new one, ending after a final state. 204 when the client already has
   * the final version; 429 past the limits; 503 while the service stops.
   */
  stream({ request, user, orderId, lastEventId }: StreamRequest): Response {
    const { reads, changes } = this.deps
    this.streams.refuseWhileStopping()
    const order = reads.row(user, orderId)
    if (!order) throw notFound(NO_ORDER)
    // From here to the subscription nothing awaits: no change can commit in between unseen.
    let last = lastEventId ?? 0
    const pending = reads.versionsAfter(orderId, last)
    if (pending.length === 0 && isEnded(order.status)) return new Response(null, { status: 204 })
    // Everything there will ever be is here: one answer, no slot, no subscription.
    if (isFinal(pending.at(-1))) {
      return new Response(sseRetry(this.streams.retryMs) + pending.map(frame).join(''), {
        headers: streamHeaders,
      })
    }
    /** Sends the versions not sent yet, oldest first; ends after a final state. */
    const sendNew = (s: { write(text: string): void; end(why: string): void }, versions: Version[]) => {
      if (versions.length === 0) return
      s.write(versions.map(frame).join(''))
      last = (versions.at(-1) as Version).version
      if (isFinal(versions.at(-1))) s.end('final state')
    }
    return this.streams.open({
      request,
      user,
      start: (s) => sendNew(s, pending),
      watch: (wake) => changes.watch(orderId, wake),
      sendNew: (s) => sendNew(s, reads.versionsAfter(orderId, last)),
      describe: () => ({ orderId, sent: last }),
    })
  }
}
