// Server-Sent Events for a service's live views (an order's versions, a person's notifications): the
// part every stream shares. Bounds per process and per user, a heartbeat that also checks the token
// again, one write at a time, a client that stops reading let go, and every stream ended when the
// service stops. What is sent, and from where, is the service's: it reads what is new from its
// database when woken, so a missed or coalesced wake-up loses nothing.
import type { Principal, TokenVerifier } from './auth.ts'
import { HttpProblem } from './errors.ts'
import { errorFields, type Logger } from './log.ts'

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

/**
 * One event. `data` must hold no line break (JSON.stringify output never does), so one `data:`
 * line carries it whole.
 */
export const sseEvent = (id: string | number, event: string, data: string) =>
  `id: ${id}\nevent: ${event}\ndata: ${data}\n\n`

/** The `retry:` hint a stream opens with. */
/**
 * The OpenAPI `content` of a 200 that is an event stream: the schema is that of one event as a
 * client reads it (fields `id`, `event`, `data`, `retry`; an event may carry only some), which is
 * how schema-aware clients and fuzzers check each event.
 */
export const eventStreamContent = (event: string, example: string) => ({
  'text/event-stream': {
    schema: {
      type: 'object' as const,
      properties: {
        id: { type: 'string' as const },
        event: { type: 'string' as const, enum: [event] },
        data: { type: 'string' as const, contentMediaType: 'application/json' },
        retry: { type: 'integer' as const, minimum: 0 },
      },
    },
    example,
  },
})

export const sseRetry = (retryMs: number) => `retry: ${retryMs}\n\n`

/** One open stream, as the service writing it sees it. */
export interface LiveStream {
  /** Sends `text` (whole frames); ends the stream if the client has stopped reading. */
  write(text: string): void
  end(why: string): void
  readonly ended: boolean
}

export interface OpenStream {
  request: Request
  user: Principal
  /** Sends what the client missed, right after the `retry:` hint. */
  start(stream: LiveStream): void
  /**
   * Subscribes `wake` to "something new may be there"; answers how to unsubscribe. Called right
   * after `start`, with nothing awaited in between, so nothing commits unseen.
   */
  watch(wake: () => void): () => void
  /** Sends what is new; runs after a wake-up, once the token has been checked again. */
  sendNew(stream: LiveStream): void
  /** What the log line at the end says beside the user, the reason and the duration. */
  describe?(): Record<string, unknown>
}

/** The open streams of one kind in one process: their bounds, heartbeats and token checks. */
export class EventStreams {
  private readonly limits: StreamLimits
  /** Each open stream, by the function that ends it. */
  private readonly running = new Set<(why: string) => void>()
  private readonly perUser = new Map<string, number>()
  private closing = false

  constructor(
    private readonly deps: { name: string; verifier: TokenVerifier; log: Logger },
    limits: Partial<StreamLimits> = {},
  ) {
    this.limits = { ...defaultStreamLimits, ...limits }
  }

  /** How many streams are open. */
  get size(): number {
    return this.running.size
  }

  get retryMs(): number {
    return this.limits.retryMs
  }

  /** Ends every open stream and refuses new ones (503): the service is stopping. */
  endAll(): void {
    this.closing = true
    for (const end of [...this.running]) end('service stopping')
  }

  /** 503 while the service stops: call it before anything else a stream request does. */
  refuseWhileStopping(): void {
    if (this.closing) {
      throw new HttpProblem('unavailable', 'the service is stopping; reconnect shortly', {
        headers: { 'retry-after': RETRY_AFTER },
      })
    }
  }

  /** Opens a stream for `user` (429 past the bounds, 503 while stopping) and answers its response. */
  open(o: OpenStream): Response {
    const { name, verifier, log } = this.deps
    const { heartbeatMs, retryMs, maxOpen, maxPerUser } = this.limits
    const { request, user } = o
    this.refuseWhileStopping()
    if (this.running.size >= maxOpen) throw tooMany('the service has as many open streams as it serves')
    const mine = this.perUser.get(user.id) ?? 0
    if (mine >= maxPerUser) throw tooMany(`at most ${maxPerUser} open streams per user`)

    const authorization = request.headers.get('authorization')
    const opened = performance.now()
    let controller!: ReadableStreamDefaultController<Uint8Array>
    let unwatch = () => {}
    let heartbeat: ReturnType<typeof setInterval> | undefined
    let ended = false
    const stream: LiveStream = {
      get ended() {
        return ended
      },
      write: (text) => {
        controller.enqueue(encoder.encode(text))
        if ((controller.desiredSize ?? 0) < -MAX_UNREAD) end('client not reading')
      },
      end: (why) => end(why),
    }
    const end = (why: string) => {
      if (ended) return
      ended = true
      clearInterval(heartbeat)
      unwatch()
      request.signal.removeEventListener('abort', gone)
      this.running.delete(end)
      const n = (this.perUser.get(user.id) ?? 1) - 1
      if (n > 0) this.perUser.set(user.id, n)
      else this.perUser.delete(user.id)
      try {
        controller.close()
      } catch {
        // Cancelled by the client already.
      }
      log.debug(
        { ...o.describe?.(), userId: user.id, why, ms: Math.round(performance.now() - opened) },
        `${name} stream ended`,
      )
    }
    const gone = () => end('client gone')
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
        log.error({ ...o.describe?.(), ...errorFields(err) }, `${name} stream failed`)
        end('failed')
      })
    }

    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c
      },
      cancel: () => end('client gone'),
    })
    this.running.add(end)
    this.perUser.set(user.id, mine + 1)
    stream.write(sseRetry(retryMs))
    o.start(stream)
    if (!ended) {
      unwatch = o.watch(() => {
        // Wake-ups that arrive while a send waits its turn are served by that send.
        if (queued) return
        queued = true
        checked(() => {
          queued = false
          o.sendNew(stream)
        })
      })
      heartbeat = setInterval(() => checked(() => stream.write(': keep-alive\n\n')), heartbeatMs)
      request.signal.addEventListener('abort', gone)
      if (request.signal.aborted) gone()
    }
    return new Response(body, { headers: streamHeaders })
  }
}

const encoder = new TextEncoder()

const tooMany = (detail: string) =>
  new HttpProblem('too-many-requests', detail, { headers: { 'retry-after': RETRY_AFTER } })

type Listener<T> = (change: T) => void

/**
 * Who is watching what (an order, a person's notifications): streams subscribe by key, and code
 * that commits a change calls `changed` from `t.afterCommit`. In memory and per process, which is
 * enough: a stream that missed a call (or reconnects) reads what it missed from the database.
 */
export class Watchers<T = void> {
  private readonly listeners = new Map<string, Set<Listener<T>>>()

  /** Calls `listener` after each committed change of `key`; answers how to stop. */
  watch(key: string, listener: Listener<T>): () => void {
    let set = this.listeners.get(key)
    if (!set) {
      set = new Set()
      this.listeners.set(key, set)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key)
    }
  }

  /** Called after a change of `key` committed. */
  changed(key: string, change: T): void {
    for (const listener of this.listeners.get(key) ?? []) listener(change)
  }

  /** How many are watching, across all keys. */
  get watchers(): number {
    let n = 0
    for (const set of this.listeners.values()) n += set.size
    return n
  }
}
