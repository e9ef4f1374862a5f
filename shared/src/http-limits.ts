// Request size limits, enforced by our code rather than Bun's HTTP parser. Past its own limits
// Bun answers a bare 413 or 431 before any of our code runs: no problem body, no access line.
// Its limits are set past ours, so that ours are the ones a client meets.
import http from 'node:http'

/** Largest request head (request line and headers) a service reads; past it, a 431. Bun's default. */
export const HEADER_LIMIT = 16 * 1024

/**
 * Bun's parser keeps a request's head in memory until it is complete, so its limit stays: 4x
 * ours. A head between the two gets our 431; a longer one still gets Bun's bare 431 (measured:
 * `431 Request Header Fields Too Large`, `Connection: close`, no body).
 */
const PARSER_HEADER_LIMIT = 4 * HEADER_LIMIT

/**
 * Bun's body limit, out of the way: the app refuses a Content-Length over its limit at once and
 * stops reading a chunked body at it. A body nobody reads is drained, not buffered (measured:
 * 300 MB streamed at a 413, the server's memory flat at 30 MB).
 */
export const PARSER_BODY_LIMIT = Number.MAX_SAFE_INTEGER

/**
 * Sets Bun's header limit (process-wide: Bun.serve reads node:http's `maxHeaderSize`, which its
 * types call read-only, and Bun's own tests set). For every server in the process.
 */
export function raiseParserLimits(): void {
  ;(http as { maxHeaderSize: number }).maxHeaderSize = PARSER_HEADER_LIMIT
}

/** The size of a request's head as it came over the wire: `METHOD /path HTTP/1.1`, then `name: value` lines. */
export function headSize(request: Request): number {
  const url = request.url
  const target = url.length - url.indexOf('/', url.indexOf('//') + 2)
  let size = request.method.length + target + 12
  for (const [name, value] of request.headers) size += name.length + value.length + 4
  return size + 2
}
