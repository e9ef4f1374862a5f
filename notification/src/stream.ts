// GET /api/notifications/stream: the caller's new notifications as Server-Sent Events. Each event is
// a row read from the database after the last one sent (ids are uuid v7, so "after" is "newer"): a
// wake-up after a commit only says "look again", so a missed or coalesced one loses nothing, and a
// client that reconnects with Last-Event-ID gets exactly what was written for it meanwhile. The
// bounds, heartbeat and token checks are every stream's (EventStreams, in shared).
import {
  EventStreams,
  type LiveStream,
  type Logger,
  type Principal,
  type StreamLimits,
  sseEvent,
  type TokenVerifier,
} from '@mart/shared'
import type { NotificationChanges } from './changes.ts'
import { type Inbox, viewOf } from './inbox.ts'

/** Where a stream starts for someone who has no notification yet: before any id there can be. */
export const BEFORE_ALL = '00000000-0000-0000-0000-000000000000'
/** Notifications read (and written as one chunk) at a time; a longer backlog takes several turns. */
const PAGE = 100

const frame = (n: Parameters<typeof viewOf>[0]) => sseEvent(n.id, 'notification', JSON.stringify(viewOf(n)))

export interface StreamRequest {
  request: Request
  user: Principal
  /** The Last-Event-ID header: the id of the last notification the client has. */
  lastEventId: string | undefined
}

export class NotificationStreams {
  private readonly streams: EventStreams

  constructor(
    private readonly deps: {
      inbox: Inbox
      changes: NotificationChanges
      verifier: TokenVerifier
      log: Logger
    },
    limits: Partial<StreamLimits> = {},
  ) {
    this.streams = new EventStreams({ name: 'notification', verifier: deps.verifier, log: deps.log }, limits)
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
   * The caller's notifications written after `lastEventId` (without it: from now on), then each
   * new one as it commits. 429 past the limits; 503 while the service stops.
   */
  stream({ request, user, lastEventId }: StreamRequest): Response {
    const { inbox, changes } = this.deps
    this.streams.refuseWhileStopping()
    // From here to the subscription nothing awaits: nothing can commit in between unseen.
    let last = lastEventId ?? inbox.newestId(user.id) ?? BEFORE_ALL
    let wake = () => {}
    let more = false
    /** Sends a page of what is new, oldest first; a full page asks for another turn. */
    const sendNew = (s: LiveStream) => {
      const rows = inbox.after(user.id, last, PAGE)
      if (rows.length > 0) {
        s.write(rows.map(frame).join(''))
        last = (rows.at(-1) as (typeof rows)[number]).id
      }
      more = rows.length === PAGE
      if (more) wake()
    }
    return this.streams.open({
      request,
      user,
      start: (s) => {
        // An id without an event: a client that reconnects before any event arrives says where it was.
        s.write(`id: ${last}\n\n`)
        sendNew(s)
      },
      watch: (w) => {
        wake = w
        const unwatch = changes.watch(user.id, w)
        if (more) w()
        return unwatch
      },
      sendNew,
      describe: () => ({ sent: last }),
    })
  }
}
