// Reads a Server-Sent Events answer the way a client does: frame by frame, as the bytes arrive.

/** One block of the stream: an event (id, event, data), a `retry:` hint or a comment. */
export interface SseFrame {
  id?: string
  event?: string
  data?: string
  retry?: string
  comment?: string
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
export type SseEvent<V = Record<string, any>> = SseFrame & { data: string; view: V }

export function sseReader(res: Response) {
  if (!res.body) throw new Error(`no body (status ${res.status})`)
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let done = false

  const parse = (block: string): SseFrame => {
    const f: SseFrame = {}
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) f.comment = line.slice(1).trim()
      else {
        const at = line.indexOf(':')
        const field = line.slice(0, at) as keyof SseFrame
        f[field] = line.slice(at + 1).replace(/^ /, '')
      }
    }
    return f
  }

  /** The next frame, or null once the server has ended the stream. */
  async function next(): Promise<SseFrame | null> {
    for (;;) {
      const end = buffer.indexOf('\n\n')
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        return parse(block)
      }
      if (done) return null
      const { value, done: over } = await reader.read()
      if (over) done = true
      else buffer += decoder.decode(value, { stream: true })
    }
  }

  /** The next event (its data parsed as JSON), skipping hints and comments; null once the stream has ended. */
  async function event(): Promise<SseEvent | null> {
    for (;;) {
      const f = await next()
      if (!f) return null
      if (f.data !== undefined) return { ...f, data: f.data, view: JSON.parse(f.data) }
    }
  }

  /** Every event left, until the server ends the stream. */
  async function rest(): Promise<SseEvent[]> {
    const out: SseEvent[] = []
    for (let e = await event(); e; e = await event()) out.push(e)
    return out
  }

  return { next, event, rest, cancel: () => reader.cancel() }
}
