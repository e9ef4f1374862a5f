// Reading a request body before anything else looks at it: bounded in bytes however it is sent,
// and, for JSON, bounded in nesting depth before it is parsed.
import { parseQuery } from 'elysia/parse-query'
import { HttpProblem } from './errors.ts'
import { FORM_TYPE, JSON_TYPE } from './http-routes.ts'

/** How deep arrays and objects may nest in a JSON body; no request of ours needs more than a few. */
export const MAX_JSON_DEPTH = 64

const decoder = new TextDecoder()

const QUOTE = 34
const BACKSLASH = 92
const OPEN_ARRAY = 91
const OPEN_OBJECT = 123
const CLOSE_ARRAY = 93
const CLOSE_OBJECT = 125

/**
 * Whether JSON `text` nests arrays and objects deeper than `limit`, in one pass that stops at the
 * first level too deep. Brackets inside strings do not count. Malformed text is left to JSON.parse.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) inString = true
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--
  }
  return false
}

/**
 * JSON.parse behind the depth check. A deeper body would cost every later step (validation, its
 * error, a log line) time that grows with the depth; it is a 400 before any of them runs.
 */
export function parseJson(text: string): unknown {
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new HttpProblem('bad-request', `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`)
  }
  return JSON.parse(text)
}

/**
 * The body as text, read until `limit` bytes and no further: 413 past it. A client that sends no
 * Content-Length (chunked, or a request made in process) meets the same limit as one that does.
 */
export async function readText(request: Request, limit: number): Promise<string> {
  if (!request.body) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new HttpProblem('payload-too-large', `the limit is ${limit} bytes`)
    }
    chunks.push(value)
  }
  return decoder.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
}

/** Parses a body of a media type the route takes (already lower-cased): JSON or a form. */
export function parseBody(type: string, text: string): unknown {
  if (type === JSON_TYPE) return parseJson(text)
  if (type === FORM_TYPE) return parseQuery(text)
  throw new Error(`no parser for ${type}`)
}
