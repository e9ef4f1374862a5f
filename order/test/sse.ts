// Reads an order's event stream the way a client does (the shared reader), each event with its
// version (the event id) beside the order's view.
import { sseReader as readEvents } from '@mart/shared/testing'

export type { SseFrame as Frame } from '@mart/shared/testing'

export function sseReader(res: Response) {
  const s = readEvents(res)
  const withVersion = <E extends { id?: string }>(e: E) => ({ ...e, version: Number(e.id) })

  /** The next event, skipping hints and comments; null once the stream has ended. */
  async function event() {
    const e = await s.event()
    return e && withVersion(e)
  }

  /** Every event left, until the server ends the stream. */
  const rest = async () => (await s.rest()).map(withVersion)

  return { next: s.next, event, rest, cancel: s.cancel }
}
