// GET /api/orders/:id/stream: the order's view on every change, as Server-Sent Events, until it ends.
// Every event is a stored version (order_versions), read after the last one sent: a notification
// only says "look again", so a missed or coalesced notification loses nothing, and a client that
// reconnects with Last-Event-ID gets exactly the versions after it, in order.
import {
  errorFields,
  HttpProblem,
  type Logger,
  notFound,
  type Principal,
  type TokenVerifier,
} from '@mart/shared'
import type { OrderChanges } from './changes.ts'
import { NO_ORDER } from './commands.ts'
import type { OrderReads } from './reads.ts'
import { isEnded, type OrderStatus } from './transitions.ts'

export interface StreamLimits {
  /** A comment line this often keeps proxies from closing an idle stream (and checks the token). */
  heartbeatMs: number
  /** How long a client waits before reconnecting (the `retry:` hint). */
  retryMs: number
  /** Open streams per process, and per user. */
  maxOpen: number
  maxPerUser: number
}

export const defaultStreamLimits: StreamLimits = {
  heartbeatMs: 15_000,
  retryMs: 3_000,
  maxOpen: 1000,
  maxPerUser: 5,
}

/** Chunks a client has not read yet past which it is taken to be gone (a heartbeat is one). */
const MAX_UNREAD = 64
/** When a refused client may try again, in seconds. */
const RETRY_AFTER = '10'

export const streamHeaders = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  // nginx and its kin buffer a response unless told not to; an event must leave at once.
  'x-accel-buffering': 'no',
}

type Version = { version: number; view: string }

// Stored views are JSON.stringify output: no raw line breaks, so one `data:` line holds a view.
const frame = (v: Version) => `id: ${v.version}\nevent: order\ndata: ${v.view}\n\n`
const isFinal = (v: Version | undefined) =>
  v !== undefined && isEnded((JSON.parse(v.view) as { status: OrderStatus }).status)

const encoder = new TextEncoder()

export interface StreamRequest {
  request: Request
  user: Principal
  orderId: string
  /** The Last-Event-ID header: the version the client has. */
  lastEventId: number | undefined
}

export class OrderStreams {
  private readonly limits: StreamLimits
  /** Each open stream, by the function that ends it. */
  private readonly open = new Set<(why: string) => void>()
  private readonly perUser = new Map<string, number>()
  private closing = false

  constructor(
    private readonly deps: { reads: OrderReads; changes: OrderChanges; verifier: TokenVerifier; log: Logger },
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...defaultStreamLimits, ...limits }
  }

  /** How many streams are open. */
  get size(): number {
    return this.open.size
  }

  /** Ends every open stream and refuses new ones (503): the service is stopping. */
  endAll(): void {
    this.closing = true
    for (const end of [...this.open]) end('service stopping')
  }

  /**
   * The stream of `orderId` for its owner or an admin (404 for anyone else): the versions after
   * `lastEventId`, then each new one, ending after a final state. 204 when the client already has
   * the final version; 429 past the limits; 503 while the service stops.
   */
  stream({ request, user, orderId, lastEventId }: StreamRequest): Response {
    const { reads, changes, verifier, log } = this.deps
    const { heartbeatMs, retryMs, maxOpen, maxPerUser } = this.limits
    if (this.closing) {
      throw new HttpProblem('unavailable', 'the service is stopping; reconnect shortly', {
        headers: { 'retry-after': RETRY_AFTER },
      })
    }
    const order = reads.row(user, orderId)
    if (!order) throw notFound(NO_ORDER)
    // From here to the subscription nothing awaits: no change can commit in between unseen.
    let last = lastEventId ?? 0
    const pending = reads.versionsAfter(orderId, last)
    const hello = `retry: ${retryMs}\n\n`
    if (pending.length === 0 && isEnded(order.status)) return new Response(null, { status: 204 })
    // Everything there will ever be is here: one answer, no slot, no subscription.
    if (isFinal(pending.at(-1))) {
      return new Response(hello + pending.map(frame).join(''), { headers: streamHeaders })
    }
    if (this.open.size >= maxOpen) throw tooMany('the service has as many open streams as it serves')
    const mine = this.perUser.get(user.id) ?? 0
    if (mine >= maxPerUser) throw tooMany(`at most ${maxPerUser} open streams per user`)

    const authorization = request.headers.get('authorization')
    const opened = performance.now()
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let ended = false
    let unwatch = () => {}
    let heartbeat: ReturnType<typeof setInterval> | undefined
    const end = (why: string) => {
      if (ended) return
      ended = true
      clearInterval(heartbeat)
      unwatch()
      request.signal.removeEventListener('abort', gone)
      this.open.delete(end)
      const n = (this.perUser.get(user.id) ?? 1) - 1
      if (n > 0) this.perUser.set(user.id, n)
      else this.perUser.delete(user.id)
      try {
        controller.close()
      } catch {
        // Cancelled by the client already.
      }
      log.debug(
        { orderId, userId: user.id, why, sent: last, ms: Math.round(performance.now() - opened) },
        'order stream ended',
      )
    }
    const gone = () => end('client gone')
    const write = (text: string) => {
      controller.enqueue(encoder.encode(text))
      if ((controller.desiredSize ?? 0) < -MAX_UNREAD) end('client not reading')
    }
    /** Sends the versions not sent yet, oldest first; ends after a final state. */
    const sendNew = (versions = reads.versionsAfter(orderId, last)) => {
      if (versions.length === 0) return
      write(versions.map(frame).join(''))
      last = (versions.at(-1) as Version).version
      if (isFinal(versions.at(-1))) end('final state')
    }
    // One write at a time, each after the token is checked again: a stream outlives a token.
    let turn = Promise.resolve()
    let queued = false
    const checked = (send: () => void) => {
      turn = turn.then(async () => {
        if (ended) return
        try {
          await verifier.fromHeader(authorization)
        } catch {
          return end('token no longer valid')
        }
        if (!ended) send()
      })
      turn = turn.catch((err: unknown) => {
        log.error({ orderId, ...errorFields(err) }, 'order stream failed')
        end('failed')
      })
    }

    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c
      },
      cancel: () => end('client gone'),
    })
    this.open.add(end)
    this.perUser.set(user.id, mine + 1)
    write(hello)
    sendNew(pending)
    unwatch = changes.watch(orderId, () => {
      // Notifications that arrive while a send waits its turn are served by that send.
      if (queued) return
      queued = true
      checked(() => {
        queued = false
        sendNew()
      })
    })
    heartbeat = setInterval(() => checked(() => write(': keep-alive\n\n')), heartbeatMs)
    request.signal.addEventListener('abort', gone)
    if (request.signal.aborted) gone()
    return new Response(body, { headers: streamHeaders })
  }
}

const tooMany = (detail: string) =>
  new HttpProblem('too-many-requests', detail, { headers: { 'retry-after': RETRY_AFTER } })
